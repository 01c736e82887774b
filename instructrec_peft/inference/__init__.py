"""Stage 4, inference: candidate scoring (likelihood, list labels, item-token logits), content
retrieval, and the ``Recommender`` that serves a tuned adapter.

May import: ``models``, ``instructions``, ``data``, ``errors``, ``files``.
"""
