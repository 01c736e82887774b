"""Ranking-metric formulas over the rank of the one relevant item per user.

Leave-one-out evaluation has exactly one relevant item (the target) per user, so every metric is
a function of the target's 1-based rank ``r_u`` among the user's scored candidates:

* ``HR@K   = mean_u [r_u <= K]``
* ``NDCG@K = mean_u [r_u <= K] / log2(r_u + 1)``   (the ideal DCG of one relevant item is 1)
* ``MRR    = mean_u 1 / r_u``

Ties are broken against the target: ``r_u = 1 + #{c != target : s_c >= s_target}``, so a model
that gives every candidate the same score ranks last, never first.

``AUC`` (pointwise Yes/No scores) is the Mann-Whitney probability that a positive outscores a
negative, ties counting one half.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...errors import ArgumentError, ScoringError

__all__ = ["target_ranks", "hit_rate", "ndcg", "mrr", "ranking_metrics", "auc"]


def target_ranks(scores: Sequence[Sequence[float]], targets: Sequence[int]) -> np.ndarray:
    """1-based rank of ``scores[u][targets[u]]`` within ``scores[u]``, ties counted against it."""
    if len(scores) != len(targets):
        raise ArgumentError(f"{len(scores)} score lists for {len(targets)} targets")
    ranks = np.empty(len(scores), dtype=np.int64)
    for u, (row, target) in enumerate(zip(scores, targets)):
        row = np.asarray(row, dtype=np.float64)
        if np.isnan(row).any():
            # `others >= nan` is all False: a NaN target would rank first. Never rank NaN.
            raise ScoringError(f"row {u}: {int(np.isnan(row).sum())} NaN score(s); a NaN cannot be ranked")
        if not 0 <= target < len(row):
            raise ArgumentError(f"user {u}: target index {target} outside its {len(row)} candidates")
        others = np.delete(row, target)
        ranks[u] = 1 + int(np.sum(others >= row[target]))
    return ranks


def hit_rate(ranks: np.ndarray, k: int) -> float:
    return float(np.mean(np.asarray(ranks) <= k))


def ndcg(ranks: np.ndarray, k: int) -> float:
    ranks = np.asarray(ranks, dtype=np.float64)
    return float(np.mean(np.where(ranks <= k, 1.0 / np.log2(ranks + 1.0), 0.0)))


def mrr(ranks: np.ndarray) -> float:
    return float(np.mean(1.0 / np.asarray(ranks, dtype=np.float64)))


def ranking_metrics(ranks: np.ndarray, k_values: Sequence[int] = (1, 3, 5, 10)) -> dict[str, float]:
    """``{"hr@K": ..., "ndcg@K": ... for each K, "mrr": ...}``."""
    if len(ranks) == 0:
        raise ArgumentError("no ranks to average: evaluation had no users")
    out: dict[str, float] = {}
    for k in k_values:
        if k < 1:
            raise ArgumentError(f"k must be >= 1, got {k}")
        out[f"hr@{k}"] = hit_rate(ranks, k)
        out[f"ndcg@{k}"] = ndcg(ranks, k)
    out["mrr"] = mrr(ranks)
    return out


def auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    positives, negatives = scores[labels == 1], scores[labels == 0]
    if len(positives) == 0 or len(negatives) == 0:
        raise ArgumentError("AUC needs at least one positive and one negative label")
    greater = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positives) * len(negatives)))
