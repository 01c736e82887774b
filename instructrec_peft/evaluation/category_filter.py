"""Keyword-filter baselines for stated intentions: rank the items whose categories match what the
user asked for first, then by a baseline's own scores.

This is the level any keyword match reaches, so a model that understands an instruction must be
above it. InstructRec's I2 intention states the target's whole category set ("a Crime, Thriller
movie"), matched ``exact``; its I1 intention names one category, matched by ``overlap``.

>>> filter_first(np.array([3.0, 1.0, 2.0, 0.0]), np.array([False, True, False, True])).argsort()[::-1].tolist()
[1, 3, 0, 2]
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import ArgumentError

__all__ = ["MATCH_MODES", "category_matches", "filter_first"]

MATCH_MODES = ("exact", "overlap")


def category_matches(catalog, items: Sequence[str], stated: Sequence[str], mode: str = "exact") -> np.ndarray:
    """Booleans over ``items``: their categories equal the ``stated`` set (``exact``) or share one
    with it (``overlap``). A stated category the catalogue never uses is an error naming the known
    ones, not a filter that silently matches nothing."""
    if mode not in MATCH_MODES:
        raise ArgumentError(f"mode {mode!r} is not one of {MATCH_MODES}")
    wanted = {c.lower() for c in stated}
    if not wanted:
        raise ArgumentError("no category stated: the filter needs at least one")
    known = {c.lower(): c for item in catalog.texts for c in catalog.categories(item)}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ArgumentError(f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {unknown}; the catalogue's are "
                            f"{sorted(known.values())}")
    found = []
    for item in items:
        have = {c.lower() for c in catalog.categories(item)}
        found.append(have == wanted if mode == "exact" else bool(have & wanted))
    return np.array(found, dtype=bool)


def filter_first(scores: np.ndarray, matches: np.ndarray) -> np.ndarray:
    """``scores`` shifted so that every matching item ranks above every other, each group keeping
    its own order; excluded items (``-inf``) stay excluded."""
    scores = np.asarray(scores, dtype=np.float64)
    matches = np.asarray(matches, dtype=bool)
    if scores.shape != matches.shape:
        raise ArgumentError(f"{scores.shape} scores but {matches.shape} matches")
    finite = np.isfinite(scores)
    if not finite.any():
        return scores.copy()
    span = scores[finite].max() - scores[finite].min() + 1.0
    return np.where(matches & finite, scores + span, scores)
