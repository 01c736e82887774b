"""Stage 5, inference: candidate scoring (likelihood, list labels, item-token logits), content
retrieval, and the ``Recommender`` that serves a tuned adapter.

May import: ``models`` and every stage below it.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Recommender": "recommender", "ContentRetriever": "retrieval", "explain_items": "explanations",
})
