"""Items that arrive after tuning, added to an item-token adapter: one new token each, its row
initialised as tuning initialises every row (the mean input embedding of the item's text, plus
that of its category names), untrained. The tokenizer, the embedding matrices (input and tied
head, PEFT's trainable-token wrappers included) and the map grow together, or, when anything
fails, none of them changes.
"""

from __future__ import annotations

import copy
from typing import Sequence

import torch

from ..data.plain_text import plain_text
from ..errors import ArgumentError

__all__ = ["add_items"]


def add_items(space, model, tokenizer, items: Sequence[str], texts: Sequence[str],
              categories: Sequence[Sequence[str]] | None = None) -> None:
    """Give ``items`` (with their ``texts`` and ``categories``) tokens in ``space`` (a
    :class:`~instructrec_peft.inference.spaces.TokenSpace`), ``model`` and ``tokenizer``."""
    if isinstance(items, str) or isinstance(texts, str):
        raise ArgumentError("add_items takes a list of item ids and a list of texts, not a single string")
    items, texts = [str(i) for i in items], [plain_text(str(t)) for t in texts]
    if len(items) != len(texts):
        raise ArgumentError(f"{len(items)} items but {len(texts)} texts")
    if categories is not None:
        if isinstance(categories, str) or len(categories) != len(items) or any(
                isinstance(c, str) or not all(isinstance(n, str) for n in c) for c in categories):
            raise ArgumentError("add_items: categories must be one list of category names per item")
        categories = [[plain_text(n) for n in c] for c in categories]
    if not items:
        raise ArgumentError("add_items: no items given")
    known = [i for i in items if i in space.tokens]
    if known:
        raise ArgumentError(f"item {known[0]!r} already has a token")
    from tokenizers import AddedToken

    from ..models.item_rows import category_rows, embedding_weights, text_means

    # Everything that can fail on the input runs before anything changes: a failed call
    # leaves the tokenizer, the embeddings and the map as they were.
    extended = space.tokens.extend(items, texts, categories)
    if len(tokenizer) != space.tokens.id_range.stop:
        raise ArgumentError("the tokenizer has tokens after the item tokens; new item tokens would not be "
                            "contiguous")
    rows = text_means(model, tokenizer, texts)
    if categories is not None:
        rows = rows + category_rows(model, tokenizer, categories)
    new = extended.strings[len(space.tokens):]
    weights = embedding_weights(model)
    saved_tokenizer, saved_weights = copy.deepcopy(tokenizer), [w.data for w in weights]
    try:
        tokenizer.add_tokens([AddedToken(s, normalized=False, special=False) for s in new])
        extended.check(tokenizer, "add_items")
        for weight in weights:
            grow = extended.id_range.stop - weight.shape[0]
            with torch.no_grad():
                # A new matrix, assigned in place of the old one, so every module holding this
                # parameter (a tied head, PEFT's trainable-token wrappers) sees it, and the old
                # one stays intact to fall back to.
                grown = torch.cat([weight.data, weight.data.new_zeros(max(grow, 0), weight.shape[1])])
                grown[space.tokens.id_range.stop:extended.id_range.stop] = rows.to(weight.dtype)
                weight.data = grown
    except BaseException:
        tokenizer.__dict__.update(saved_tokenizer.__dict__)
        for weight, data in zip(weights, saved_weights):
            weight.data = data
        raise
    space.tokens = extended
    space.index(zip(items, texts))
