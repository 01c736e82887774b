"""The item space of a tuning run, built once from its settings.

Without ``item_tokens`` a run names items by their catalogue text (:class:`TextSpace`). With it,
each catalogue item gets a new token of the tokenizer, and the space carries how its row starts
(:class:`RowInit`): the title's embedding, plus its categories' (``item_token_categories``) and,
for ``item_token_init`` ``text+bpr`` / ``text+sasrec``, the item's factor from that baseline
fitted on the run's train split, so nothing of the validation or test targets leaks in.

>>> space = run_item_space(data_args, tokenizer, log, split, seed=42)   # doctest: +SKIP
>>> model = build_model(model_args, space, tokenizer)                   # doctest: +SKIP
"""

from __future__ import annotations

import logging

from ..config import DataArguments
from ..data.interactions import InteractionLog
from ..data.split import LeaveOneOutSplit
from ..evaluation.baselines import item_factors
from ..inference.spaces import ItemSpace, RowInit, TextSpace, TokenSpace
from ..instructions.item_tokens import add_item_tokens

__all__ = ["run_item_space"]

logger = logging.getLogger(__name__)


def run_item_space(data_args: DataArguments, tokenizer, log: InteractionLog, split: LeaveOneOutSplit,
                   seed: int = 0) -> ItemSpace:
    """The space ``data_args`` asks for over ``log``'s catalogue; with item tokens, they are added
    to ``tokenizer`` (in place) and the collaborative factors are fitted on ``split``'s train part."""
    if not data_args.item_tokens:
        return TextSpace()
    items = list(log.catalog.texts)
    categories = [log.catalog.categories(i) for i in items]
    tokens = add_item_tokens(tokenizer, items, [log.catalog.text(i) for i in items],
                             categories if any(categories) else None)
    init = data_args.item_token_init
    factors = item_factors(init.split("+")[1], split, items, seed) if "+" in init else None
    named = categories if data_args.item_token_categories and any(categories) else None
    logger.info("item tokens: %d items, ids %d..%d, initialised from %s%s", len(tokens), tokens.first_id,
                tokens.id_range.stop - 1, init, " + categories" if named else "")
    return TokenSpace(tokens, RowInit(factors=factors, categories=named, seed=seed))
