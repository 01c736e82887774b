"""Synthetic interaction logs of any size, for scale measurements (never for quality).

Users get ``per_user`` interactions each (so users grow with the log), items are drawn with a
Zipf-like popularity, titles and genres are made up: "Item 417 (1987)", one to three of eight
genres. Same arguments, same log.

>>> log = synthetic_log(10_000, seed=0)
>>> len(log.interactions), log.interactions["user_id"].nunique()
(10000, 100)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from .interactions import InteractionLog, ItemCatalog

__all__ = ["synthetic_log"]

GENRES = ("Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi", "Thriller", "Documentary")


def synthetic_log(interactions: int, *, per_user: int = 100, items: int | None = None,
                  seed: int = 0) -> InteractionLog:
    if interactions < per_user:
        raise ArgumentError(f"interactions ({interactions}) must be at least per_user ({per_user})")
    rng = np.random.default_rng(seed)
    users = interactions // per_user
    items = items or max(2 * per_user, min(50_000, interactions // 20))
    weights = 1.0 / np.arange(1, items + 1) ** 0.8
    weights /= weights.sum()
    frame = pd.DataFrame({
        "item_id": [str(i) for i in range(items)],
        "title": [f"Item {i}" for i in range(items)],
        "year": rng.integers(1950, 2024, size=items).astype(str),
        "genres": ["|".join(rng.choice(GENRES, size=rng.integers(1, 4), replace=False)) for _ in range(items)],
    }).set_index("item_id")
    catalog = ItemCatalog(frame, text_fields=("title", "year"), category_field="genres", category_sep="|")
    # Per user: distinct items (sampling with replacement, then de-duplicated, keeps it vectorised).
    rows_user, rows_item = [], []
    for user in range(users):
        picked = np.unique(rng.choice(items, size=per_user * 2, p=weights))[:per_user]
        while len(picked) < per_user:
            picked = np.union1d(picked, rng.choice(items, size=per_user, replace=False))[:per_user]
        rows_user.append(np.full(per_user, user))
        rows_item.append(rng.permutation(picked))
    user_ids, item_ids = np.concatenate(rows_user), np.concatenate(rows_item)
    log = pd.DataFrame({"user_id": [f"u{u}" for u in user_ids], "item_id": item_ids.astype(str),
                        "timestamp": np.tile(np.arange(per_user, dtype=float), users),
                        "rating": rng.integers(1, 6, size=len(user_ids)).astype(float)})
    return InteractionLog.load(log, catalog=catalog, name=f"synthetic-{interactions}")
