"""Stage 4, inference: candidate scoring (likelihood, list labels, item-token logits), content
retrieval, and the ``Recommender`` that serves a tuned adapter.

May import: ``models``, ``instructions``, ``data``, ``errors``, ``files``.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Recommender": "recommender", "ContentRetriever": "retrieval", "explain_items": "explanations",
})
