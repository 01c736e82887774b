"""Non-LM baselines, scored on the same candidate rows as the language model.

>>> pop = Popularity.fit(split)                 # doctest: +SKIP
>>> pop.score("196", ["242", "302"])            # train counts of each candidate
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .split import LeaveOneOutSplit

__all__ = ["Popularity"]


@dataclass
class Popularity:
    """Score = how often the item occurs in train; the same for every user."""

    counts: dict[str, int]

    @classmethod
    def fit(cls, split: LeaveOneOutSplit) -> "Popularity":
        return cls(split.item_counts())

    def score(self, user: str, candidates: Sequence[str]) -> list[float]:
        return [float(self.counts.get(item, 0)) for item in candidates]

    def rank_rows(self, rows) -> tuple[list[list[float]], list[int]]:
        """Scores and target indices for evaluation rows (as :func:`evaluation.rank_rows`)."""
        scores = [self.score(row["user"], row["candidates"]) for row in rows]
        return scores, [row["candidates"].index(row["target"]) for row in rows]
