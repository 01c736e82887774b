"""``TextSpace``: items as catalogue text in the base vocabulary, scored by likelihood.

An example's answer is the item's title (and EOS), the loss is next-token cross-entropy (projected
to the vocabulary only where supervised), a candidate's score is its text's likelihood after the
prompt (or its list label's, for a reranking template), and :meth:`TextSpace.top` generates
under a prefix-trie constraint over the catalogue's tokenised texts, so only real items come
out, none from the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from ...data.plain_text import plain_text
from ...errors import ArgumentError
from ...models.losses import completion_loss
from ..candidates import rank_rows, score_ranking
from ..modes import eval_mode, forward_as_loaded
from .base import ItemSpace

__all__ = ["ItemTrie", "TextSpace"]


class ItemTrie:
    """A prefix tree over token sequences (each ending in EOS): which tokens may come next."""

    def __init__(self, sequences: Sequence[Sequence[int]]):
        self.root: dict = {}
        for sequence in sequences:
            node = self.root
            for token in sequence:
                node = node.setdefault(token, {})

    def allowed(self, prefix: Sequence[int]) -> list[int]:
        node = self.root
        for token in prefix:
            node = node.get(token)
            if node is None:
                return []
        return list(node)


@dataclass
class _Texts:
    """Catalogue texts and their token ids (with EOS), deduplicated."""

    texts: list[str]
    ids: list[list[int]]


class TextSpace(ItemSpace):
    """Items as catalogue text (text-only adapters and zero-shot models)."""

    name = "text"

    def __init__(self):
        self.catalog: _Texts | None = None

    # ---- building the model ------------------------------------------------------------------

    def prepare_model(self, model, tokenizer, model_args=None) -> None:
        """Nothing to add: the base vocabulary spells every title."""

    def trainable_tokens(self) -> None:
        return None

    def row_parameters(self, model) -> set[int]:
        return set()

    def prepare_saving(self, model) -> None:
        """The adapter saves as PEFT saves it."""

    # ---- the loss ------------------------------------------------------------------------------

    def encode(self, encoder, all_positions: bool = True):
        """``batch -> input_ids, labels``: the prompt, then the completion (the title and EOS)."""
        return lambda batch: encoder.encode_batch(batch["prompt"], batch["completion"])

    def completion_only_logits(self, requested: bool) -> bool:
        return requested

    def loss_func(self, completion_only: bool):
        return completion_loss if completion_only else None

    def loss_model(self, model, autocast):
        return model

    # ---- scoring rows --------------------------------------------------------------------------

    def rank(self, model, encoder, rows, catalog, *, method=None, normalize=True, batch_size=16, progress=False):
        with forward_as_loaded(model):
            return rank_rows(model, encoder, rows, catalog, method=method, normalize=normalize, progress=progress)

    # ---- recommending --------------------------------------------------------------------------

    def set_catalog(self, catalog, encoder) -> None:
        texts = list(dict.fromkeys(catalog.texts.values() if hasattr(catalog, "texts") else catalog))
        if not texts:
            raise ArgumentError("the catalogue is empty")
        self.catalog = _Texts(texts, encoder.completion_ids(texts))

    def ids(self, items: Sequence[str]) -> list[str]:
        return [str(i) for i in items]  # a text-only adapter's items are their texts

    def shown(self, items: Sequence[str], mode: str = "title") -> list[str]:
        return [plain_text(str(i)) for i in items]

    def texts(self, items: Sequence[str]) -> list[str]:
        return list(items)

    def label(self, item: str) -> str:
        return item

    def known_categories(self) -> list[str]:
        return []  # a text-only adapter's catalogue is the caller's: any category may be asked for

    def score(self, model, encoder, template, prompt, candidates, method=None) -> list[float]:
        return score_ranking(model, encoder, template, prompt, list(candidates), method=method).tolist()

    def top(self, model, encoder, template, prompt: str, history: Sequence[str], k: int,
            method: str | None = None) -> list[tuple[str, float]]:
        """Up to ``k`` catalogue texts found by constrained beam search, then scored as :meth:`score`
        scores them, best first."""
        if self.catalog is None:
            raise ArgumentError("recommend needs a catalogue: pass catalog= or call set_catalog()")
        seen = set(history)
        keep = [i for i, text in enumerate(self.catalog.texts) if text not in seen]
        if len(keep) < k:
            raise ArgumentError(f"only {len(keep)} catalogue items are not in the history; asked for {k}")
        sequences = [self.catalog.ids[i] for i in keep]
        by_ids = {tuple(self.catalog.ids[i]): self.catalog.texts[i] for i in keep}
        trie = ItemTrie(sequences)
        prompt_ids = encoder.prompt_ids([prompt])[0]
        start = len(prompt_ids)
        tokenizer = encoder.tokenizer
        eos = tokenizer.eos_token_id

        def allowed(_batch: int, ids: torch.Tensor) -> list[int]:
            # Once a beam has emitted EOS it is finished; pad tokens may follow it.
            return trie.allowed(ids[start:].tolist()) or [eos]

        device = next(model.parameters()).device
        with eval_mode(model):
            out = model.generate(
                input_ids=torch.tensor([prompt_ids], device=device),
                attention_mask=torch.ones((1, start), dtype=torch.long, device=device),
                num_beams=max(k, 2), num_return_sequences=max(k, 2), max_new_tokens=max(map(len, sequences)),
                prefix_allowed_tokens_fn=allowed, do_sample=False, eos_token_id=eos,
                pad_token_id=tokenizer.pad_token_id, early_stopping=True)
        found = []
        for row in out[:, start:].tolist():
            ids = row[: row.index(eos) + 1] if eos in row else row
            text = by_ids.get(tuple(ids))
            if text is not None and text not in found:
                found.append(text)
        found = found[:k]
        # Beam search finds them; the scorer of rank() orders them, so recommend and rank agree.
        scores = self.score(model, encoder, template, prompt, found, method)
        return sorted(zip(found, scores), key=lambda pair: -pair[1])

    # ---- saving the map ------------------------------------------------------------------------

    def manifest_fields(self, item_text: str) -> dict:
        return {"item_tokens": None, "item_text": "title"}
