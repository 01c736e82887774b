"""Stage 5, inference: candidate scoring (likelihood, list labels, item-token logits), content
retrieval, the two item spaces (``spaces/``: catalogue text or item tokens) and the
``Recommender`` that serves a tuned adapter.

May import: ``models`` and every stage below it.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Recommender": "recommender", "ContentRetriever": "retrieval", "explain_items": "explanations",
    "rank_rows": "candidates", "score_ranking": "candidates", "item_space": "spaces", "ItemSpace": "spaces",
    "TextSpace": "spaces", "TokenSpace": "spaces",
})
