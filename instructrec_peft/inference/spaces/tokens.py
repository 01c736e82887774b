"""``TokenSpace``: each item a token of its own, scored by its logit.

The rows start from the item's title (plus its categories and a collaborative factor, as
:class:`RowInit` says) and train with PEFT's trainable tokens at their own learning rate; every
history position is labelled; the loss is a softmax over the item tokens only; one forward pass
ranks the whole catalogue. Items are given by id or by text (a text that names several items is
refused, listing their ids), and items that arrive after tuning get a token (:meth:`add_items`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ...data.item_lookup import ItemLookup
from ...errors import ArgumentError
from ...instructions.item_examples import encode_item_rows
from ...instructions.item_tokens import ItemTokens, resize_for_items
from ...models.item_head import ItemLogits
from ...models.item_rows import item_token_rows, set_item_rows
from ...models.losses import item_token_loss
from ..item_scoring import item_scores, rank_item_rows
from .base import ItemSpace

__all__ = ["RowInit", "TokenSpace"]


@dataclass(frozen=True)
class RowInit:
    """How :meth:`TokenSpace.prepare_model` initialises the item rows of a base model: the title's
    mean embedding, plus ``categories`` (per token, the item's category names) and ``factors``
    (per token, a collaborative baseline's item factor) when given."""

    factors: np.ndarray | None = None
    categories: Sequence[Sequence[str]] | None = None
    seed: int = 0
    cf_scale: float = 0.5


class TokenSpace(ItemSpace):
    """Items as tokens of their own (item-token adapters)."""

    name = "tokens"

    def __init__(self, tokens: ItemTokens, init: RowInit | None = None):
        self.tokens, self.init = tokens, init
        # A text may name several items (ML-100K has two "Chairman of the Board (1998)"): all are kept, so that
        # such a title is refused as ambiguous instead of silently meaning one of them.
        self.lookup = ItemLookup(zip(tokens.items, tokens.texts))

    # ---- building the model ------------------------------------------------------------------

    def prepare_model(self, model, tokenizer, model_args=None) -> None:
        """Resize a base model for the item tokens and write their initial rows (with :class:`RowInit`),
        or check that a model already holds them."""
        self.tokens.check(tokenizer, "the item space")
        if model_args is not None and model_args.peft_method != "lora":
            raise ArgumentError(f"ModelArguments.peft_method: item tokens train with LoRA, not "
                                f"{model_args.peft_method!r}")
        if self.init is not None:
            init = self.init
            rows = item_token_rows(model, tokenizer, self.tokens, init.factors, seed=init.seed, cf_scale=init.cf_scale,
                                   categories=init.categories)
            resize_for_items(model, self.tokens)
            set_item_rows(model, self.tokens, rows)
        elif model.get_input_embeddings().weight.shape[0] < self.tokens.id_range.stop:
            raise ArgumentError("the model's embeddings do not hold the item tokens; give the item space a RowInit "
                                "to initialise them, or resize the model and set their rows first")

    def trainable_tokens(self) -> list[int]:
        return list(self.tokens.id_range)

    def row_parameters(self, model) -> set[int]:
        # New rows start from an initialisation, not from pretraining, and move further than
        # LoRA's low-rank updates: they get their own (higher) rate, without weight decay.
        return {id(p) for n, p in model.named_parameters() if p.requires_grad and "trainable_tokens_delta" in n}

    def prepare_saving(self, model) -> None:
        # PEFT would save the whole resized embedding matrix (twice, input and tied head) on
        # seeing a vocabulary larger than the base's; the trained rows are in the adapter already.
        model.save_pretrained = functools.partial(type(model).save_pretrained, model, save_embedding_layers=False)

    # ---- the loss ------------------------------------------------------------------------------

    def encode(self, encoder, all_positions: bool = True):
        return lambda batch: encode_item_rows(encoder, self.tokens, batch, all_positions)

    def completion_only_logits(self, requested: bool) -> bool:
        return True  # the item loss reads the supervised positions' logits only

    def loss_func(self, completion_only: bool):
        return item_token_loss(self.tokens.id_range)

    def loss_model(self, model, autocast):
        # Trainer's loss bookkeeping stays; the "model" it calls returns item logits only.
        return ItemLogits(model, self.tokens.id_range, autocast=autocast)

    # ---- scoring rows --------------------------------------------------------------------------

    def rank(self, model, encoder, rows, catalog, *, method=None, normalize=True, batch_size=16, progress=False):
        return rank_item_rows(model, encoder, self.tokens, rows, batch_size=batch_size, progress=progress)

    # ---- recommending --------------------------------------------------------------------------

    def index(self, pairs) -> None:
        """Let ``(item, text)`` pairs be found by their texts."""
        self.lookup.add(pairs)

    def set_catalog(self, catalog, encoder) -> None:
        # Item-token adapters know their items; a catalogue only adds text lookups.
        self.index((item, text) for item, text in getattr(catalog, "texts", {}).items() if item in self.tokens)

    def resolve(self, item: str) -> str:
        """An item id of the map, given its id or its text as a person types it (case, a leading
        article, the year optional when one item has that name: :class:`~...data.item_lookup.ItemLookup`);
        a text that names several items is refused, listing their ids, and an unknown one with the
        closest titles."""
        if not isinstance(item, str):
            raise ArgumentError(f"an item is given by its id or its text (a string), got {type(item).__name__}")
        if item in self.tokens:
            return item
        text, marker, labelled = item.rpartition(" [id ")
        if marker and labelled.endswith("]") and labelled[:-1] in self.tokens \
                and self.tokens.text(labelled[:-1]) == text:
            return labelled[:-1]  # the form label() shows an ambiguous title in
        return self.lookup.find(item, f"the adapter's {len(self.tokens)} items (add_items gives new items a token)")

    def ids(self, items: Sequence[str]) -> list[str]:
        return [self.resolve(i) for i in items]

    def shown(self, items: Sequence[str], mode: str = "tokens") -> list[str]:
        return [self.tokens.show(self.resolve(i), mode) for i in items]

    def texts(self, items: Sequence[str]) -> list[str]:
        # Explanations are text: the base model's words for titles, not the tuned item tokens.
        return [self.tokens.text(self.resolve(i)) for i in items]

    def label(self, item: str) -> str:
        """Its text, with its id when the text names several items."""
        text = self.tokens.text(item)
        return f"{text} [id {item}]" if len(self.lookup.exact.get(text, ())) > 1 else text

    def known_categories(self) -> list[str]:
        return self.tokens.known_categories()

    def item_scores(self, model, encoder, prompts: Sequence[str], batch_size: int = 16,
                    progress: bool = False) -> torch.Tensor:
        return item_scores(model, encoder.prompt_ids(list(prompts)), self.tokens.id_range, batch_size,
                           pad_id=encoder.tokenizer.pad_token_id or 0, progress=progress, desc="scoring requests")

    def score(self, model, encoder, template, prompt, candidates, method=None) -> list[float]:
        ids = [self.tokens.position(self.resolve(c)) for c in candidates]
        return self.item_scores(model, encoder, [prompt])[0][ids].tolist()

    def top(self, model, encoder, template, prompt, history, k, method=None) -> list[tuple[str, float]]:
        seen = [self.tokens.position(item) for item in self.ids(history)]
        left = len(self.tokens) - len(set(seen))
        if left < k:
            raise ArgumentError(f"only {left} items are not in the history; asked for {k}")
        scores = self.item_scores(model, encoder, [prompt])[0].clone()
        scores[seen] = -torch.inf
        best = torch.topk(scores, k)
        return [(self.tokens.items[i], float(s)) for i, s in zip(best.indices.tolist(), best.values.tolist())]

    def score_matrix(self, model, encoder, prompts, batch_size=16, progress=False) -> np.ndarray:
        return self.item_scores(model, encoder, prompts, batch_size, progress).numpy()

    def add_items(self, model, tokenizer, items, texts, categories=None) -> None:
        from ..new_items import add_items

        add_items(self, model, tokenizer, items, texts, categories)

    # ---- saving the map ------------------------------------------------------------------------

    def manifest_fields(self, item_text: str) -> dict:
        return {"item_tokens": self.tokens.to_dict(), "item_text": item_text}
