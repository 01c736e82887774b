"""The two item spaces, behind one interface (:class:`~.base.ItemSpace`) that the trainer, the
evaluation and the ``Recommender`` call, so none of them branches on which one a run uses:

* :class:`~.text.TextSpace`: items are catalogue text in the base vocabulary; an example's
  answer is the item's title, the loss is next-token cross-entropy, a candidate's score is its
  text's likelihood, and recommending is beam search constrained to the catalogue's titles;
* :class:`~.tokens.TokenSpace`: each item is one new token (``item_tokens``); its rows are
  initialised from the title (plus categories and a collaborative factor) and train with PEFT's
  trainable tokens, the loss is a softmax over the item tokens only, and one forward pass scores
  the whole catalogue by the item tokens' logits.

>>> item_space(None).name
'text'
"""

from __future__ import annotations

from ...instructions.item_tokens import ItemTokens
from .base import ItemSpace
from .text import ItemTrie, TextSpace
from .tokens import RowInit, TokenSpace

__all__ = ["ItemSpace", "TextSpace", "TokenSpace", "RowInit", "ItemTrie", "item_space", "saved_space"]


def item_space(tokens: ItemTokens | None, init: RowInit | None = None) -> ItemSpace:
    """The space of an item-token map (:class:`TokenSpace`, rows from ``init`` when it builds a
    model), or of catalogue text when there is none (:class:`TextSpace`)."""
    return TextSpace() if tokens is None else TokenSpace(tokens, init)


def saved_space(manifest, tokenizer) -> ItemSpace:
    """The space an adapter was tuned in, read back from its manifest (what
    :meth:`ItemSpace.manifest_fields` wrote); an item-token map must match ``tokenizer``."""
    tokens = ItemTokens.from_dict(manifest.item_tokens) if manifest.item_tokens else None
    if tokens is not None:
        tokens.check(tokenizer, "the adapter's manifest")
    return item_space(tokens)
