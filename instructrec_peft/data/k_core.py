"""The k-core of a log, as the papers' "5-core" datasets are made: users with fewer than
``min_user`` interactions and items with fewer than ``min_item`` are dropped, again and again
until both hold (dropping an item can take a user under the bar, and back). The catalogue keeps
the surviving items only, so negatives are never items the filtered log does not have; the rows
dropped are counted in the cleaning report.

>>> from instructrec_peft.data.synthetic import synthetic_log
>>> log = synthetic_log(2_000, per_user=20, seed=0)
>>> core = k_core(log, min_user=5, min_item=5)
>>> core.report.below_k_core, len(core.interactions)   # rows dropped by the filter, rows kept
(42, 1958)
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import ArgumentError, DataError
from .interactions import InteractionLog

__all__ = ["k_core"]


def k_core(log: InteractionLog, min_user: int = 0, min_item: int = 0) -> InteractionLog:
    """The largest part of ``log`` in which every user and item has enough interactions."""
    if min_user < 0 or min_item < 0:
        raise ArgumentError(f"k-core bounds must be >= 0, got min_user={min_user}, min_item={min_item}")
    frame = log.interactions
    while True:
        users = frame["user_id"].map(frame["user_id"].value_counts())
        items = frame["item_id"].map(frame["item_id"].value_counts())
        keep = (users >= min_user) & (items >= min_item)
        if keep.all():
            break
        frame = frame[keep]
    frame = frame.reset_index(drop=True)
    if frame.empty:
        raise DataError(f"{log.name}: no interactions left in the {min_user}-user / {min_item}-item core; "
                        "lower min_user_interactions or min_item_interactions")
    catalog = log.catalog
    if catalog is not None:
        kept = set(frame["item_id"])
        catalog = replace(catalog, frame=catalog.frame.loc[[i for i in catalog.texts if i in kept]])
    report = replace(log.report, below_k_core=log.report.below_k_core + len(log.interactions) - len(frame),
                     rows_out=len(frame), users=frame["user_id"].nunique(), items=frame["item_id"].nunique())
    return InteractionLog(frame, catalog, report, name=log.name)
