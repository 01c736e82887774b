"""Embedding rows of a (possibly PEFT-wrapped) model: which matrices hold them, and what an item
token's row starts as, what the model knows of an item before tuning:

* the mean of the model's input embeddings of the item's title tokens, so a new token starts
  where the title's meaning is (an untrained token would start as noise);
* with ``categories``, plus the mean input embedding of its category names ("Comedy"): the very
  rows an intention's words are read through, so "a Comedy movie" starts out pointing at the comedies;
* with ``factors`` (an item's factor from a collaborative baseline fitted on the train split:
  ``item_token_init`` ``text+bpr`` / ``text+sasrec``), plus that factor through a fixed random
  projection to the model width, scaled so its mean norm is ``cf_scale`` times the title part's.
  Items that co-occur in histories then start close together, which text alone cannot know.

Tuning initialises item tokens with these; the Recommender gives items that arrive after tuning
a row the same way.

>>> rows = item_token_rows(model, tokenizer, tokens, factors=bpr.item_factors)   # doctest: +SKIP
>>> set_item_rows(model, tokens, rows)                                            # doctest: +SKIP
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..data.plain_text import plain_text
from ..errors import ArgumentError
from ..instructions.item_tokens import ItemTokens

__all__ = ["embedding_weights", "text_means", "category_rows", "item_token_rows", "set_item_rows"]


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


def item_token_rows(model, tokenizer, tokens: ItemTokens, factors=None, seed: int = 0, cf_scale: float = 0.5,
                    categories: Sequence[Sequence[str]] | None = None) -> torch.Tensor:
    """(len(tokens), d) initial rows for ``tokens`` (in token order): title means, plus
    ``categories``' (per token, the item's category names) and ``factors``' ((len(tokens), k))
    parts when given."""
    if categories is not None and len(categories) != len(tokens):
        raise ArgumentError(f"item_token_rows: {len(categories)} category lists for {len(tokens)} items")
    rows = text_means(model, tokenizer, tokens.texts)
    named = rows + category_rows(model, tokenizer, categories) if categories is not None else rows
    if factors is None:
        return named
    factors = torch.as_tensor(factors, dtype=torch.float32)
    if factors.shape[0] != len(tokens):
        raise ArgumentError(f"item_token_rows: {factors.shape[0]} factors for {len(tokens)} items")
    # A fixed Gaussian projection keeps the factors' geometry (inner products, roughly) in d dims.
    generator = torch.Generator().manual_seed(seed)
    projection = torch.randn(factors.shape[1], rows.shape[1], generator=generator) / factors.shape[1] ** 0.5
    cf = factors @ projection
    # Scaled against the title part alone, so adding categories leaves the factor's weight as it was.
    cf = cf * (cf_scale * rows.norm(dim=1).mean() / cf.norm(dim=1).mean().clamp(min=1e-12))
    return named + cf


def set_item_rows(model, tokens: ItemTokens, rows: torch.Tensor) -> None:
    """Write ``rows`` at the tokens' ids into the input embedding and, when it is not tied to it,
    the output head: an untied head scores items by its own rows, which get the same start."""
    for weight in embedding_weights(model):
        if rows.shape != (len(tokens), weight.shape[1]) or weight.shape[0] < tokens.id_range.stop:
            raise ArgumentError(f"item rows of shape {tuple(rows.shape)} do not fit a {tuple(weight.shape)} embedding "
                                f"at ids {tokens.first_id}..{tokens.id_range.stop - 1}; resize it first "
                                "(resize_for_items)")
        with torch.no_grad():
            weight[tokens.first_id:tokens.id_range.stop] = rows.to(weight.dtype).to(weight.device)
