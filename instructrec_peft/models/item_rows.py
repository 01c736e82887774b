"""Embedding rows of a (possibly PEFT-wrapped) model: which matrices hold them, and a row for a
text from the model's own token embeddings. Tuning initialises item tokens with these; the
Recommender gives items that arrive after tuning a row the same way.

>>> rows = text_means(model, tokenizer, ["Toy Story (1995)"])   # doctest: +SKIP
>>> rows.shape                                                   # (1, hidden size)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..data.plain_text import plain_text
from ..errors import ArgumentError

__all__ = ["embedding_weights", "text_means", "category_rows"]


def embedding_weights(model) -> list[torch.nn.Parameter]:
    """The distinct weight matrices of the input embedding and the output head (one if tied),
    looked up under PEFT's trainable-token wrappers when the model has them."""
    found = []
    for module in (model.get_input_embeddings(), model.get_output_embeddings()):
        if module is None:
            continue
        module = getattr(getattr(module, "token_adapter", None), "base_layer", None) or module
        if all(module.weight is not w for w in found):
            found.append(module.weight)
    return found


def text_means(model, tokenizer, texts: Sequence[str]) -> torch.Tensor:
    """(len(texts), d): the mean input embedding of each text's tokens (no special tokens)."""
    weight = embedding_weights(model)[0].detach()
    # A text such as "<|item_5|>" is read as characters, never as the token it spells.
    ids = tokenizer([plain_text(t) for t in texts], add_special_tokens=False)["input_ids"]
    empty = [t for t, row in zip(texts, ids) if not row]
    if empty:
        raise ArgumentError(f"item text {empty[0]!r} has no tokens to initialise its item token from")
    return torch.stack([weight[torch.as_tensor(row, device=weight.device)].float().mean(0) for row in ids]).cpu()


def category_rows(model, tokenizer, categories: Sequence[Sequence[str]]) -> torch.Tensor:
    """(len(categories), d): per item, the mean of its category names' text embeddings (zeros for
    an item without categories)."""
    names = sorted({c for cats in categories for c in cats})
    width = embedding_weights(model)[0].shape[1]
    if not names:
        return torch.zeros(len(categories), width)
    index = {name: n for n, name in enumerate(names)}
    table = text_means(model, tokenizer, names)
    rows = torch.zeros(len(categories), width)
    for n, cats in enumerate(categories):
        if cats:
            rows[n] = table[[index[c] for c in cats]].mean(0)
    return rows
