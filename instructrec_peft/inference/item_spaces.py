"""The two item spaces a ``Recommender`` serves, behind one interface:

* :class:`TextItems`: a text-only adapter; items are catalogue texts, a candidate's score is its
  text's likelihood after the prompt, and ``recommend`` generates under a prefix-trie constraint
  over the catalogue's tokenised texts (only real items, none from the history);
* :class:`TokenItems`: an item-token adapter; items are given by id or text and shown to the
  model as their tokens, a candidate's score is its token's logit, and one forward pass ranks
  the whole catalogue.

The Recommender renders prompts, checks requests and keeps feedback; what depends on the space
is asked of ``rec.space``, so it has no branch of its own on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..data.plain_text import plain_text
from ..errors import ArgumentError
from ..instructions.item_tokens import ItemTokens
from .candidates import score_ranking
from .modes import eval_mode

__all__ = ["ItemTrie", "TextItems", "TokenItems"]


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


class TextItems:
    """Items as catalogue texts, scored by likelihood (text-only adapters and zero-shot models)."""

    tokens: ItemTokens | None = None

    def __init__(self, rec):
        self.rec = rec
        self.catalog: _Texts | None = None

    def set_catalog(self, catalog) -> None:
        texts = list(dict.fromkeys(catalog.texts.values() if hasattr(catalog, "texts") else catalog))
        if not texts:
            raise ArgumentError("the catalogue is empty")
        self.catalog = _Texts(texts, self.rec.encoder.completion_ids(texts))

    def ids(self, items: Sequence[str]) -> list[str]:
        raise ArgumentError("items() maps to item ids for item-token adapters; a text-only adapter takes texts")

    def shown(self, items: Sequence[str]) -> list[str]:
        """Items as the prompts show them."""
        return [plain_text(str(i)) for i in items]

    def texts(self, items: Sequence[str]) -> list[str]:
        """Items as words (the explanation prompt's)."""
        return list(items)

    def known_categories(self) -> list[str]:
        return []  # a text-only adapter's catalogue is the caller's: any category may be asked for

    def label(self, item: str) -> str:
        return item

    def score(self, template, prompt: str, candidates: Sequence[str]) -> list[float]:
        return score_ranking(self.rec.model, self.rec.encoder, template, prompt, list(candidates),
                             method=self.rec.scoring).tolist()

    def recommend(self, history: Sequence[str], k: int, intention: str | None, preference: str | None) -> list[str]:
        """``k`` catalogue texts by constrained beam search, best first, none from the history."""
        rec = self.rec
        if self.catalog is None:
            raise ArgumentError("recommend needs a catalogue: pass catalog= or call set_catalog()")
        if k < 1:
            raise ArgumentError(f"k must be >= 1, got {k}")
        seen = set(history)
        keep = [i for i, text in enumerate(self.catalog.texts) if text not in seen]
        if len(keep) < k:
            raise ArgumentError(f"only {len(keep)} catalogue items are not in the history; asked for {k}")
        sequences = [self.catalog.ids[i] for i in keep]
        by_ids = {tuple(self.catalog.ids[i]): self.catalog.texts[i] for i in keep}
        trie = ItemTrie(sequences)
        template = rec._template(intention, preference, task="matching")
        prompt_ids = rec.encoder.prompt_ids([rec._prompt(template, history, (), intention, preference)])[0]
        start = len(prompt_ids)
        eos = rec.tokenizer.eos_token_id

        def allowed(_batch: int, ids: torch.Tensor) -> list[int]:
            # Once a beam has emitted EOS it is finished; pad tokens may follow it.
            return trie.allowed(ids[start:].tolist()) or [eos]

        device = next(rec.model.parameters()).device
        with eval_mode(rec.model):
            out = rec.model.generate(
                input_ids=torch.tensor([prompt_ids], device=device),
                attention_mask=torch.ones((1, start), dtype=torch.long, device=device),
                num_beams=max(k, 2), num_return_sequences=max(k, 2), max_new_tokens=max(map(len, sequences)),
                prefix_allowed_tokens_fn=allowed, do_sample=False, eos_token_id=eos,
                pad_token_id=rec.tokenizer.pad_token_id, early_stopping=True)
        results = []
        for row in out[:, start:].tolist():
            ids = row[: row.index(eos) + 1] if eos in row else row
            text = by_ids.get(tuple(ids))
            if text is not None and text not in results:
                results.append(text)
        return results[:k]

    def top_items(self, history, k, intention, preference) -> list[tuple[str, float]]:
        raise ArgumentError("top_items ranks item tokens; a text-only adapter recommends with recommend()")

    def score_matrix(self, requests, batch_size: int, progress: bool) -> np.ndarray:
        raise ArgumentError("item_score_matrix scores item tokens; a text-only adapter scores with score()")

    def add_items(self, items, texts, categories) -> None:
        raise ArgumentError("add_items needs an adapter tuned with item_tokens: text-only adapters score any item "
                            "text already")


class TokenItems(TextItems):
    """Items as tokens of their own (item-token adapters), scored by their logits."""

    def __init__(self, rec, tokens: ItemTokens):
        super().__init__(rec)
        self.tokens = tokens
        # A text may name several items (ML-100K has two "Chairman of the Board (1998)"): all are kept, so that
        # such a title is refused as ambiguous instead of silently meaning one of them.
        self.by_text: dict[str, list[str]] = {}
        self.index(zip(tokens.items, tokens.texts))

    def index(self, pairs) -> None:
        for item, text in pairs:
            for key in {text, plain_text(text)}:
                found = self.by_text.setdefault(key, [])
                if item not in found:
                    found.append(item)

    def set_catalog(self, catalog) -> None:
        # Item-token adapters know their items; a catalogue only adds text lookups.
        self.index((item, text) for item, text in getattr(catalog, "texts", {}).items() if item in self.tokens)

    def resolve(self, item: str) -> str:
        """An item id of the map, given its id or its text (a text that names several items is
        refused, listing their ids)."""
        if not isinstance(item, str):
            raise ArgumentError(f"an item is given by its id or its text (a string), got {type(item).__name__}")
        if item in self.tokens:
            return item
        text, marker, labelled = item.rpartition(" [id ")
        if marker and labelled.endswith("]") and labelled[:-1] in self.tokens \
                and self.tokens.text(labelled[:-1]) == text:
            return labelled[:-1]  # the form label() shows an ambiguous title in
        found = self.by_text.get(item) or self.by_text.get(plain_text(item))
        if found and len(found) == 1:
            return found[0]
        if found:
            raise ArgumentError(f"{item!r} is the text of {len(found)} items (ids {', '.join(map(repr, found))}); "
                                "give the item id instead")
        raise ArgumentError(f"unknown item {item!r}: neither an item id nor an item text of the adapter's "
                            f"{len(self.tokens)} items (add_items gives new items a token)")

    def ids(self, items: Sequence[str]) -> list[str]:
        return [self.resolve(i) for i in items]

    def shown(self, items: Sequence[str]) -> list[str]:
        return [self.tokens.show(self.resolve(i), self.rec.manifest.item_text) for i in items]

    def texts(self, items: Sequence[str]) -> list[str]:
        # Explanations are text: the base model's words for titles, not the tuned item tokens.
        return [self.tokens.text(self.resolve(i)) for i in items]

    def known_categories(self) -> list[str]:
        return self.tokens.known_categories()

    def label(self, item: str) -> str:
        """Its text, with its id when the text names several items."""
        text = self.tokens.text(item)
        return f"{text} [id {item}]" if len(self.by_text.get(text, ())) > 1 else text

    def item_scores(self, prompts: list[str], batch_size: int = 16, progress: bool = False) -> torch.Tensor:
        from .item_scoring import item_scores

        return item_scores(self.rec.model, self.rec.encoder.prompt_ids(prompts), self.tokens.id_range, batch_size,
                           pad_id=self.rec.tokenizer.pad_token_id or 0, progress=progress, desc="scoring requests")

    def score(self, template, prompt: str, candidates: Sequence[str]) -> list[float]:
        ids = [self.tokens.position(self.resolve(c)) for c in candidates]
        return self.item_scores([prompt])[0][ids].tolist()

    def recommend(self, history, k, intention, preference) -> list[str]:
        return [self.tokens.text(item) for item, _ in self.top_items(history, k, intention, preference)]

    def top_items(self, history, k, intention, preference) -> list[tuple[str, float]]:
        rec = self.rec
        if k < 1:
            raise ArgumentError(f"k must be >= 1, got {k}")
        if not history and not preference:
            raise ArgumentError("the history is empty: give at least one item or an explicit preference")
        seen = [self.tokens.position(item) for item in self.ids(history)]  # checked before the model runs
        left = len(self.tokens) - len(set(seen))
        if left < k:
            raise ArgumentError(f"only {left} items are not in the history; asked for {k}")
        template = rec._template(intention, preference, task="matching")
        scores = self.item_scores([rec._prompt(template, history, (), intention, preference)])[0].clone()
        scores[seen] = -torch.inf
        top = torch.topk(scores, k)
        return [(self.tokens.items[i], float(s)) for i, s in zip(top.indices.tolist(), top.values.tolist())]

    def score_matrix(self, requests, batch_size: int, progress: bool) -> np.ndarray:
        rec, prompts = self.rec, []
        for request in requests:
            intention, preference = request.get("intention"), request.get("preference")
            template = rec._template(intention, preference, task="matching")
            prompts.append(rec._prompt(template, request["history"], (), intention, preference))
        return self.item_scores(prompts, batch_size, progress).numpy()

    def add_items(self, items, texts, categories) -> None:
        from .new_items import add_items

        add_items(self, items, texts, categories)
