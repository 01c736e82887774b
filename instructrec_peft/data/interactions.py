"""Interaction logs and item catalogues: load, validate, clean.

Sources: RecBole atomic files, CSV, TSV, JSONL, Parquet, a pandas ``DataFrame`` or a
``datasets.Dataset``. Whatever the source, the log becomes one canonical frame with string ids::

    user_id  item_id  timestamp(float64)  [rating(float64)]

and the item metadata a :class:`ItemCatalog` that turns an item id into the text the language
model reads ("Toy Story (1995)") and into category labels (for intentions).

>>> log = InteractionLog.from_recbole("~/.cache/instructrec_peft/data/ml-100k")  # doctest: +SKIP
>>> print(log.report.summary())                                                  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .catalog import ItemCatalog
from .cleaning import CleaningReport, _id_column, clean
from .file_errors import row_location
from .tables import ColumnMap, _require_columns, open_text, read_table
from .times import TIME_UNITS, parse_times

logger = logging.getLogger(__name__)

__all__ = ["ColumnMap", "ItemCatalog", "CleaningReport", "InteractionLog", "read_table", "open_text", "clean",
           "parse_times", "TIME_UNITS"]

def _check_ids_match(raw: pd.DataFrame, cleaned: pd.DataFrame, report: CleaningReport, catalog: "ItemCatalog",
                     column: str, where: str) -> None:
    """No item id in common between the log and the catalogue is an error; most rows unmatched, a warning."""
    if not report.unknown_items:
        return
    ids = raw["item_id"].dropna()
    known = ids.isin(catalog.texts)
    example, catalogued = ids[~known].iloc[0], next(iter(catalog.texts), None)
    if cleaned.empty and not known.any():
        raise DataError(f"{where}: none of the item ids in column {column!r} is in the catalogue {catalog.source} "
                        f"(e.g. {example!r} in the log, {catalogued!r} in the catalogue); check item_column and "
                        "item_id_column")
    share = report.unknown_items / max(report.rows_in, 1)
    if share >= 0.5:
        report.warnings.append(f"{column}: {share:.0%} of the rows name items absent from the catalogue "
                               f"{catalog.source} (e.g. {example!r}; catalogue ids look like {catalogued!r})")


@dataclass
class InteractionLog:
    """A cleaned interaction log with its item catalogue."""

    interactions: pd.DataFrame
    catalog: ItemCatalog | None
    report: CleaningReport
    name: str = "log"

    @property
    def has_ratings(self) -> bool:
        return "rating" in self.interactions.columns

    @classmethod
    def load(
        cls,
        source: Any,
        *,
        columns: ColumnMap = ColumnMap(),
        format: str | None = None,
        catalog: ItemCatalog | None = None,
        name: str | None = None,
    ) -> "InteractionLog":
        """Load, validate and clean a log; rows of items missing from ``catalog`` are dropped."""
        frame, where, first_line = read_table(source, format)
        if frame.empty:
            raise DataError(f"{where}: no interactions")
        _require_columns(frame, {"user": columns.user, "item": columns.item, "time": columns.time}, where)
        seconds, times, warnings = parse_times(frame[columns.time], columns.time_unit, columns.time, where, first_line)
        canonical = pd.DataFrame({
            "user_id": _id_column(frame[columns.user]),
            "item_id": _id_column(frame[columns.item]),
            "timestamp": seconds.astype("float64"),
        })
        del frame[columns.time]
        if columns.rating is not None and columns.rating in frame.columns:
            rating = pd.to_numeric(frame[columns.rating].replace("", np.nan), errors="coerce")
            bad = rating.isna() & frame[columns.rating].notna() & (frame[columns.rating].astype(str) != "")
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(f"{row_location(where, first_line, row)}: rating {frame[columns.rating].iloc[row]!r} "
                                "is not a number")
            infinite = np.isinf(rating.to_numpy(dtype="float64", na_value=np.nan))
            if infinite.any():
                row = int(np.flatnonzero(infinite)[0])
                raise DataError(
                    f"{row_location(where, first_line, row)}: rating {frame[columns.rating].iloc[row]!r} is "
                    "not finite")
            canonical["rating"] = rating.astype("float64")
        del frame
        known = set(catalog.texts) if catalog is not None else None
        cleaned, report = clean(canonical, known)
        report.times, report.warnings = times, warnings
        if catalog is not None:
            report.truncated_texts = catalog.truncated
            _check_ids_match(canonical, cleaned, report, catalog, columns.item, where)
        for warning in report.warnings:
            logger.warning("%s: %s", where, warning)
        if cleaned.empty:
            raise DataError(f"{where}: no usable interactions left after cleaning ({report.summary()})")
        return cls(cleaned, catalog, report, name or Path(str(where)).stem)

    @classmethod
    def from_recbole(
        cls,
        directory: str | Path,
        dataset: str | None = None,
        text_fields: tuple[str, ...] = ("movie_title", "release_year"),
        category_field: str | None = "class",
    ) -> "InteractionLog":
        """Load ``<dataset>.inter`` and ``<dataset>.item`` from a RecBole dataset directory.

        The defaults fit ML-100K: items shown as "Title (Year)", genres as categories.
        """
        directory = Path(directory).expanduser()
        dataset = dataset or directory.name
        catalog = ItemCatalog.load(directory / f"{dataset}.item", text_fields=text_fields,
                                   category_field=category_field)
        return cls.load(directory / f"{dataset}.inter", catalog=catalog, name=dataset)
