"""Chronological leave-one-out split.

Per user, interactions are ordered by timestamp; ties (common: ML-100K logs many ratings in the
same second) keep the order of the rows in the source, so the split is deterministic. The last
interaction is the test target, the second last the validation target, the rest is train.

Short users: a user with fewer than ``min_interactions`` (default 3) interactions has no
history left before a validation target, so by default (``short_users="train"``) all of that
user's interactions go to train, where they still teach the model and count for popularity,
and the user is not evaluated. ``short_users="drop"`` removes them instead.

>>> split = leave_one_out(log)                      # doctest: +SKIP
>>> split.history("196", "test")[-3:], split.target("196", "test")   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import ArgumentError, DataError

__all__ = ["Stage", "LeaveOneOutSplit", "leave_one_out"]

Stage = Literal["train", "valid", "test"]
STAGES = ("train", "valid", "test")


@dataclass
class LeaveOneOutSplit:
    """Each user's full chronological sequence, and which users are evaluated."""

    sequences: dict[str, list[str]]
    ratings: dict[str, list[float]] | None
    evaluated: list[str]
    short_users: list[str]
    _evaluated_set: set[str] = field(init=False, repr=False)

    def __post_init__(self):
        self._evaluated_set = set(self.evaluated)

    @property
    def users(self) -> list[str]:
        return list(self.sequences)

    def _check(self, user: str, stage: str) -> list[str]:
        if stage not in STAGES:
            raise ArgumentError(f"stage must be one of {STAGES}, got {stage!r}")
        try:
            return self.sequences[user]
        except KeyError:
            raise DataError(f"user {user!r} is not in the split") from None

    def train_sequence(self, user: str) -> list[str]:
        """The user's train interactions, oldest first."""
        sequence = self._check(user, "train")
        return sequence[:-2] if user in self._evaluated_set else sequence

    def target(self, user: str, stage: Stage) -> str:
        """The held-out item of ``stage`` ("valid" or "test") for an evaluated user."""
        sequence = self._check(user, stage)
        if stage == "train" or user not in self._evaluated_set:
            raise DataError(f"user {user!r} has no {stage} target (stage 'train', or a short user)")
        return sequence[-2] if stage == "valid" else sequence[-1]

    def history(self, user: str, stage: Stage) -> list[str]:
        """What the user had interacted with before the ``stage`` target, oldest first."""
        sequence = self._check(user, stage)
        if stage == "train":
            return self.train_sequence(user)
        self.target(user, stage)  # raises for users without one
        return sequence[:-2] if stage == "valid" else sequence[:-1]

    def history_ratings(self, user: str, stage: Stage) -> list[float] | None:
        if self.ratings is None:
            return None
        return self.ratings[user][: len(self.history(user, stage))]

    def touched(self, user: str) -> set[str]:
        """Every item the user interacted with, in any stage: never sampled as a negative."""
        return set(self._check(user, "train"))

    def frame(self, stage: Stage) -> pd.DataFrame:
        """The stage's interactions as ``user_id, item_id`` rows (for inspection and baselines)."""
        if stage == "train":
            rows = [(u, i) for u in self.sequences for i in self.train_sequence(u)]
        else:
            rows = [(u, self.target(u, stage)) for u in self.evaluated]
        return pd.DataFrame(rows, columns=["user_id", "item_id"])

    def item_counts(self) -> dict[str, int]:
        """How often each item occurs in train (popularity)."""
        counts: dict[str, int] = {}
        for user in self.sequences:
            for item in self.train_sequence(user):
                counts[item] = counts.get(item, 0) + 1
        return counts


def leave_one_out(
    interactions, *, min_interactions: int = 3, short_users: Literal["train", "drop"] = "train"
) -> LeaveOneOutSplit:
    """Split an :class:`~instructrec_peft.data.interactions.InteractionLog` (or its frame) per user in time."""
    if min_interactions < 3:
        raise ArgumentError("min_interactions must be >= 3: valid and test targets need a train history")
    if short_users not in ("train", "drop"):
        raise ArgumentError(f"short_users must be 'train' or 'drop', got {short_users!r}")
    frame = getattr(interactions, "interactions", interactions)
    if frame.empty:
        raise DataError("cannot split an empty interaction log")
    users = frame["user_id"].to_numpy()
    # Stable order: user, then time, then source row; np.lexsort sorts by the last key first.
    user_codes, user_names = pd.factorize(users, sort=True)
    order = np.lexsort((np.arange(len(frame)), frame["timestamp"].to_numpy(), user_codes))
    items = frame["item_id"].to_numpy()[order]
    codes = user_codes[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(codes)]))
    has_rating = "rating" in frame.columns
    ratings_all = frame["rating"].to_numpy()[order] if has_rating else None

    sequences: dict[str, list[str]] = {}
    ratings: dict[str, list[float]] | None = {} if has_rating else None
    evaluated, short = [], []
    for start, end in zip(starts, ends):
        user = str(user_names[codes[start]])
        if end - start < min_interactions:
            short.append(user)
            if short_users == "drop":
                continue
        else:
            evaluated.append(user)
        sequences[user] = items[start:end].tolist()
        if ratings is not None:
            ratings[user] = ratings_all[start:end].tolist()
    if not evaluated:
        raise DataError(f"no user has {min_interactions} or more interactions; nothing to evaluate")
    return LeaveOneOutSplit(sequences, ratings, evaluated, short)
