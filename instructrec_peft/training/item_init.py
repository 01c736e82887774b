"""Initial embeddings of item tokens: what the model knows of an item before tuning.

* ``text``: the mean of the model's input embeddings of the item's title tokens, so a new token
  starts where the title's meaning is (an untrained token would start as noise);
* ``text+bpr`` / ``text+sasrec``: plus the item's factor from a collaborative baseline fitted on
  the train split in the same run (BPR-MF: seconds; SASRec: minutes), through a fixed random
  projection to the model width, scaled so its mean norm is ``cf_scale`` times the text part's.
  Items that co-occur in histories then start close together, which text alone cannot know.

With ``categories`` (on by default where the catalogue has them), each row also gets the mean
input embedding of its category names ("Comedy", "Romance"): the very rows an intention's words
are read through, so "a Comedy movie" starts out pointing at the comedies.

Only the train split feeds the baseline, so nothing of the validation or test targets leaks in.

>>> rows = item_token_rows(model, tokenizer, tokens, init="text+bpr", split=split)   # doctest: +SKIP
>>> set_item_rows(model, tokens, rows)                                               # doctest: +SKIP
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
import torch

from ..config.item_space import ITEM_TOKEN_INITS
from ..errors import ArgumentError
from ..instructions.item_tokens import ItemTokens
from ..models.item_rows import category_rows, embedding_weights, text_means

__all__ = ["INITS", "collaborative_factors", "item_token_rows", "set_item_rows", "item_token_model"]

logger = logging.getLogger(__name__)

INITS = ITEM_TOKEN_INITS


def collaborative_factors(split, items: Sequence[str], method: str, seed: int = 0) -> np.ndarray:
    """(len(items), k) item factors of a baseline fitted on ``split``'s train part."""
    from ..evaluation.baselines import fit_baseline

    if method not in ("bpr", "sasrec"):
        raise ArgumentError(f"unknown collaborative method {method!r}; expected 'bpr' or 'sasrec'")
    model = fit_baseline(method, split, items, seed=seed)
    if method == "bpr":
        return model.item_factors
    return model.net.items.weight.detach()[1:].numpy()  # row 0 is padding


def item_token_rows(model, tokenizer, tokens: ItemTokens, init: str = "text+bpr", split=None, seed: int = 0,
                    cf_scale: float = 0.5, categories: Sequence[Sequence[str]] | None = None) -> torch.Tensor:
    """(len(tokens), d) initial rows for ``tokens`` (in token order); ``categories``: per token, the
    item's categories, whose names' embeddings are added."""
    if init not in INITS:
        raise ArgumentError(f"item_token_init: {init!r} is not one of {INITS}")
    if categories is not None and len(categories) != len(tokens):
        raise ArgumentError(f"item_token_rows: {len(categories)} category lists for {len(tokens)} items")
    rows = text_means(model, tokenizer, tokens.texts)
    named = rows + category_rows(model, tokenizer, categories) if categories is not None else rows
    if init == "text":
        return named
    if split is None:
        raise ArgumentError(f"item_token_init={init!r} needs the split to fit its baseline on")
    factors = collaborative_factors(split, tokens.items, init.split("+")[1], seed)
    factors = torch.as_tensor(factors, dtype=torch.float32)
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


def item_token_model(model_args, data_args, tokenizer, log, seed: int = 0, split=None):
    """The base model of ``model_args`` with one initialised token per catalogue item of ``log``
    (``data_args.item_token_init``); the tokens are added to ``tokenizer``. Returns (model, ItemTokens).
    ``split``: the run's split of ``log``, if made already.

    The collaborative part is fitted on the train part of the split the examples come from.
    """
    from ..instructions.item_tokens import add_item_tokens, resize_for_items
    from ..models.loading import load_base_model
    from ..models.workspace import Workspace

    if model_args.peft_method != "lora":
        raise ArgumentError(f"ModelArguments.peft_method: item tokens train with LoRA, not {model_args.peft_method!r}")
    items = list(log.catalog.texts)
    categories = [log.catalog.categories(i) for i in items]
    tokens = add_item_tokens(tokenizer, items, [log.catalog.text(i) for i in items],
                             categories if any(categories) else None)
    model = load_base_model(model_args)
    if split is None and data_args.item_token_init != "text":
        split = Workspace(data_args, seed, log=log).split
    categories = categories if data_args.item_token_categories else None
    rows = item_token_rows(model, tokenizer, tokens, data_args.item_token_init, split=split, seed=seed,
                           categories=categories)
    resize_for_items(model, tokens)
    set_item_rows(model, tokens, rows)
    logger.info("item tokens: %d items, ids %d..%d, initialised from %s%s", len(tokens), tokens.first_id,
                tokens.id_range.stop - 1, data_args.item_token_init,
                " + categories" if categories and any(categories) else "")
    return model, tokens
