"""``ItemSpace``: everything that depends on how a model names items, in one place.

A space is asked, in the order of a model's life:

1. **building the model**: :meth:`prepare_model` (new rows for item tokens, or nothing),
   :meth:`trainable_tokens` (embedding rows PEFT trains), :meth:`row_parameters` (what learns at
   ``item_token_learning_rate``), :meth:`prepare_saving` (what the adapter file holds);
2. **the loss**: :meth:`encode` (examples to ``input_ids``/``labels``),
   :meth:`completion_only_logits`, :meth:`loss_func` and :meth:`loss_model` (what Trainer calls);
3. **scoring rows**: :meth:`rank` (each evaluation row's candidate scores and target index);
4. **recommending**: :meth:`set_catalog`, :meth:`ids`, :meth:`shown`, :meth:`texts`,
   :meth:`label`, :meth:`known_categories`, :meth:`score`, :meth:`top`, :meth:`score_matrix`,
   :meth:`add_items`;
5. **saving the map**: :meth:`manifest_fields` (what the template manifest records of the space).

Methods that need a model take it (and the prompt encoder) as arguments: one space object
serves a trainer's model and a loaded adapter alike.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...errors import ArgumentError
from ...instructions.item_tokens import ItemTokens

__all__ = ["ItemSpace"]


class ItemSpace:
    """The interface; :class:`~.text.TextSpace` and :class:`~.tokens.TokenSpace` implement it."""

    name: str = ""
    tokens: ItemTokens | None = None

    # ---- building the model ------------------------------------------------------------------

    def prepare_model(self, model, tokenizer, model_args=None) -> None:
        """Make a loaded base model ready for this space (before PEFT wraps it)."""
        raise NotImplementedError

    def trainable_tokens(self) -> list[int] | None:
        """Embedding rows PEFT trains beside the adapter (``None``: none)."""
        raise NotImplementedError

    def row_parameters(self, model) -> set[int]:
        """``id()`` of the parameters that learn at ``item_token_learning_rate``."""
        raise NotImplementedError

    def prepare_saving(self, model) -> None:
        """Adjust how the PEFT model saves, before Trainer first saves it."""
        raise NotImplementedError

    # ---- the loss ------------------------------------------------------------------------------

    def encode(self, encoder, all_positions: bool = True):
        """A ``datasets.Dataset.map(batched=True)`` function: example rows to ``input_ids`` and ``labels``."""
        raise NotImplementedError

    def completion_only_logits(self, requested: bool) -> bool:
        """Whether the loss reads the supervised positions' logits only."""
        raise NotImplementedError

    def loss_func(self, completion_only: bool):
        """Trainer's ``compute_loss_func`` (``None``: the model's own loss)."""
        raise NotImplementedError

    def loss_model(self, model, autocast):
        """What Trainer calls in place of ``model`` when computing the loss."""
        raise NotImplementedError

    # ---- scoring rows --------------------------------------------------------------------------

    def rank(self, model, encoder, rows, catalog, *, method: str | None = None, normalize: bool = True,
             batch_size: int = 16, progress: bool = False) -> tuple[list[list[float]], list[int]]:
        """Each evaluation row's candidate scores and the index of its target."""
        raise NotImplementedError

    # ---- recommending --------------------------------------------------------------------------

    def set_catalog(self, catalog, encoder) -> None:
        """The items :meth:`top` may return (an ItemCatalog or a list of item texts)."""
        raise NotImplementedError

    def ids(self, items: Sequence[str]) -> list[str]:
        """The items as this space names them (ids of the map, or the texts themselves)."""
        raise NotImplementedError

    def shown(self, items: Sequence[str], mode: str) -> list[str]:
        """The items as prompts show them."""
        raise NotImplementedError

    def texts(self, items: Sequence[str]) -> list[str]:
        """The items as words."""
        raise NotImplementedError

    def label(self, item: str) -> str:
        """How an item is shown to a person."""
        raise NotImplementedError

    def known_categories(self) -> list[str]:
        """The categories the space's items have (empty: any may be asked for)."""
        raise NotImplementedError

    def score(self, model, encoder, template, prompt: str, candidates: Sequence[str], method: str | None = None
              ) -> list[float]:
        """One score per candidate after ``prompt``, higher is better."""
        raise NotImplementedError

    def top(self, model, encoder, template, prompt: str, history: Sequence[str], k: int,
            method: str | None = None) -> list[tuple[str, float]]:
        """The ``k`` best items after ``prompt`` (rendered from ``template``) with their scores,
        best first, none of ``history``."""
        raise NotImplementedError

    def score_matrix(self, model, encoder, prompts: Sequence[str], batch_size: int = 16,
                     progress: bool = False) -> np.ndarray:
        """``(len(prompts), items)`` scores of every item after each prompt."""
        raise ArgumentError(f"scores of every item need an item-token adapter; this one names items as {self.name}")

    def add_items(self, model, tokenizer, items: Sequence[str], texts: Sequence[str],
                  categories: Sequence[Sequence[str]] | None = None) -> None:
        """Give items that arrived after tuning a place in the space."""
        raise ArgumentError("add_items needs an adapter tuned with item_tokens: text-only adapters score any item "
                            "text already")

    # ---- saving the map ------------------------------------------------------------------------

    def manifest_fields(self, item_text: str) -> dict:
        """What the template manifest records of the space (``item_tokens``, ``item_text``)."""
        raise NotImplementedError
