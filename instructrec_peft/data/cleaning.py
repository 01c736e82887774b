"""Cleaning a log into the canonical frame: ids as labels, missing and duplicate rows dropped, each
drop counted in a :class:`CleaningReport`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError


def _id_column(values: pd.Series) -> pd.Series:
    # Ids are labels, not numbers: "007" and "7" are different items, and 7.0 from a float
    # column must read as "7" to match the catalogue.
    if pd.api.types.is_float_dtype(values):
        if np.isinf(values.to_numpy(dtype="float64", na_value=np.nan)).any():
            example = float(values[np.isinf(values)].iloc[0])
            raise DataError(f"column {values.name!r} holds an infinite id ({example}); ids are labels such as 42 or "
                            "'B0099'")
        whole = values.dropna()
        if (whole == np.floor(whole)).all():
            values = values.astype("Int64")
    out = values.astype("string").str.strip()
    return out.where(out != "", pd.NA)


@dataclass
class CleaningReport:
    """What :func:`clean` dropped, and why."""

    rows_in: int
    missing_ids: int = 0
    missing_timestamps: int = 0
    duplicates: int = 0
    unknown_items: int = 0
    outside_domain: int = 0  # rows of items outside DataArguments.item_categories (domains.py)
    below_k_core: int = 0  # rows of users or items under the k-core bounds (k_core.py)
    rows_out: int = 0
    users: int = 0
    items: int = 0
    times: str = ""  # how the time column was read (parse_times)
    truncated_texts: int = 0  # item texts cut to the catalogue's max_text_chars
    warnings: list[str] = field(default_factory=list)  # readings that look wrong; also logged

    def summary(self) -> str:
        dropped = self.rows_in - self.rows_out
        parts = [f"{self.rows_in} rows read, {self.rows_out} kept ({self.users} users, {self.items} items)"]
        if dropped:
            parts.append(f"dropped {dropped}: {self.missing_ids} with a missing user or item id, "
                         f"{self.missing_timestamps} with a missing timestamp, {self.duplicates} exact duplicates, "
                         f"{self.unknown_items} of items absent from the catalogue"
                         + (f", {self.outside_domain} of items outside the domain" if self.outside_domain else "")
                         + (f", {self.below_k_core} below the k-core bounds" if self.below_k_core else ""))
        if self.times:
            parts.append(self.times)
        if self.truncated_texts:
            parts.append(f"{self.truncated_texts} item texts cut to the character budget")
        parts.extend(f"WARNING {warning}" for warning in self.warnings)
        return "; ".join(parts)


def clean(frame: pd.DataFrame, known_items: set[str] | None = None) -> tuple[pd.DataFrame, CleaningReport]:
    """Drop rows that cannot be used, counting each reason; the row order is kept."""
    report = CleaningReport(rows_in=len(frame))
    missing = frame["user_id"].isna() | frame["item_id"].isna()
    report.missing_ids = int(missing.sum())
    frame = frame[~missing]
    no_time = frame["timestamp"].isna()
    report.missing_timestamps = int(no_time.sum())
    frame = frame[~no_time]
    duplicated = frame.duplicated(keep="first")
    report.duplicates = int(duplicated.sum())
    frame = frame[~duplicated]
    if known_items is not None:
        unknown = ~frame["item_id"].isin(known_items)
        report.unknown_items = int(unknown.sum())
        frame = frame[~unknown]
    frame = frame.reset_index(drop=True)
    report.rows_out, report.users, report.items = len(frame), frame["user_id"].nunique(), frame["item_id"].nunique()
    return frame, report
