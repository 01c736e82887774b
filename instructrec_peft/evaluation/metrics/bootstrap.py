"""Confidence intervals for ranking metrics by bootstrap over users.

A leave-one-out metric is a mean over users of a per-user value (``[r_u <= K]`` for HR@K,
``[r_u <= K] / log2(r_u + 1)`` for NDCG@K), so its sampling error is that of a mean over the
users evaluated. :func:`bootstrap_ci` resamples users with replacement; :func:`paired_ci` resamples
the same users for two systems scored on the same candidates, which is the interval of their
difference that tells whether one is ahead (a far narrower one than two separate intervals).

>>> lo, hi = bootstrap_ci(per_user(ranks, "ndcg@10"))                         # doctest: +SKIP
>>> diff, lo, hi = paired_ci(per_user(lm, "hr@1"), per_user(sasrec, "hr@1"))  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from ...errors import ArgumentError

__all__ = ["per_user", "bootstrap_ci", "paired_ci", "summarize"]


def per_user(ranks, metric: str) -> np.ndarray:
    """Per-user values of ``metric`` ("hr@K", "ndcg@K" or "mrr") from 1-based target ranks
    (``inf``: not retrieved, zero on every metric)."""
    ranks = np.asarray(ranks, dtype=np.float64)
    if metric == "mrr":
        return 1.0 / ranks
    name, sep, k = metric.partition("@")
    if not sep or not k.isdigit() or name not in ("hr", "ndcg"):
        raise ArgumentError(f"unknown metric {metric!r}; expected hr@K, ndcg@K or mrr")
    hit = ranks <= int(k)
    return hit.astype(np.float64) if name == "hr" else np.where(hit, 1.0 / np.log2(ranks + 1.0), 0.0)


def _means(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    index = rng.integers(len(values), size=(resamples, len(values)))
    return values[index].mean(axis=1)


def bootstrap_ci(values, level: float = 0.95, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        raise ArgumentError("no values to bootstrap")
    means = _means(values, resamples, seed)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def paired_ci(a, b, level: float = 0.95, resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``a - b`` (the same users, in the same order) and its percentile bootstrap interval."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ArgumentError(f"paired values need the same users: {a.shape} vs {b.shape}")
    lo, hi = bootstrap_ci(a - b, level, resamples, seed)
    return float(np.mean(a - b)), lo, hi


def summarize(ranks, k_values=(1, 3, 5, 10), ci_metrics=("hr@1", "ndcg@10"), **kwargs
              ) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Metrics of ``ranks`` (as ``formulas.ranking_metrics``) and the bootstrap interval of each of ``ci_metrics``."""
    from .formulas import ranking_metrics

    metrics = ranking_metrics(np.asarray(ranks, dtype=np.float64), k_values)
    return metrics, {m: bootstrap_ci(per_user(ranks, m), **kwargs) for m in ci_metrics}
