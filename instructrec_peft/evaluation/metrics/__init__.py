"""Ranking metrics: plain formulas (:mod:`.formulas`) and local ``evaluate`` modules.

The ``evaluate`` modules live in this folder and load by path, with no Hub::

    >>> from instructrec_peft.evaluation.metrics import load_metric
    >>> ranking = load_metric("ranking")                              # doctest: +SKIP
    >>> ranking.compute(predictions=[[0.9, 0.1, 0.5]], references=[2], k_values=[1, 3])  # doctest: +SKIP
    {'hr@1': 0.0, 'ndcg@1': 0.0, 'hr@3': 1.0, 'ndcg@3': 0.6309..., 'mrr': 0.5}
"""

from __future__ import annotations

from pathlib import Path

from ...errors import ArgumentError
from .formulas import auc, hit_rate, mrr, ndcg, ranking_metrics, target_ranks

__all__ = ["METRICS_DIR", "load_metric", "auc", "hit_rate", "mrr", "ndcg", "ranking_metrics", "target_ranks"]

METRICS_DIR = Path(__file__).parent


def load_metric(name: str):
    """Load one of our ``evaluate`` modules ("ranking" or "pointwise") from this package."""
    import evaluate

    folder = METRICS_DIR / name
    if not (folder / f"{name}.py").is_file():
        raise ArgumentError(f"unknown metric {name!r}; available: ranking, pointwise")
    return evaluate.load(str(folder))
