"""Reading a table from any source (CSV, TSV, JSON Lines or a JSON array, Parquet, RecBole atomic
files, compressed or not, a DataFrame or a ``datasets.Dataset``) and the :class:`ColumnMap` that
says which columns hold the user, item, time and rating."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ArgumentError, DataError
from .atomic import read_atomic
from .file_errors import reading
from .times import TIME_UNITS

CANONICAL = ("user_id", "item_id", "timestamp", "rating")
_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet",
            ".inter": "atomic", ".item": "atomic", ".user": "atomic"}
# Read through transparently (published dumps come as reviews.json.gz, ratings.csv.bz2, ...).
_COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2"}


def open_text(path: Path):
    """A text handle on ``path``, decompressed on the fly for ``.gz`` and ``.bz2``."""
    import bz2
    import gzip

    opener = {"gzip": gzip.open, "bz2": bz2.open}.get(_COMPRESSIONS.get(path.suffix.lower()), open)
    return opener(path, "rt", encoding="utf-8")


def _is_json_array(path: Path) -> bool:
    """A ``.json`` file holds JSON Lines or one JSON array; the first character tells which."""
    with open_text(path) as handle:
        return handle.read(4096).lstrip()[:1] == "["


@dataclass(frozen=True)
class ColumnMap:
    """Which source columns hold the user, item, time and (optional) rating, and how times are
    written: ``time_unit`` ``"auto"`` (numbers: seconds, milliseconds or microseconds by their
    size; text: ISO 8601 dates), ``"s"``, ``"ms"``, ``"us"``, ``"iso"``, or a ``strptime``
    format such as ``"%a %b %d %H:%M:%S %z %Y"``."""

    user: str = "user_id"
    item: str = "item_id"
    time: str = "timestamp"
    rating: str | None = "rating"
    time_unit: str = "auto"

    def __post_init__(self):
        names = [n for n in (self.user, self.item, self.time, self.rating) if n is not None]
        if len(set(names)) != len(names):
            raise ArgumentError(f"ColumnMap maps two roles to the same column: {names}")
        if self.time_unit not in TIME_UNITS and "%" not in self.time_unit:
            raise ArgumentError(f"ColumnMap.time_unit: {self.time_unit!r} is not one of {TIME_UNITS} or a strptime "
                                "format (with %)")


def read_table(source: Any, format: str | None = None) -> tuple[pd.DataFrame, str, int]:
    """Read any supported source into a DataFrame of strings (atomic floats stay floats).

    Returns the frame, a name for messages, and the file line of row 0 (0 for in-memory sources,
    where messages say "row" instead).
    """
    if isinstance(source, pd.DataFrame):
        return source.copy(deep=False), "DataFrame", 0  # columns are replaced, never written in place
    if type(source).__name__ == "Dataset" and hasattr(source, "to_pandas"):
        return source.to_pandas(), "Dataset", 0
    path = Path(source).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    compressed = path.suffix.lower() in _COMPRESSIONS
    suffix = Path(path.stem).suffix.lower() if compressed else path.suffix.lower()
    fmt = format or _FORMATS.get(suffix)
    if fmt is None:
        raise DataError(f"{path}: cannot tell the format from the suffix {suffix!r}; pass format= "
                        f"one of {sorted(set(_FORMATS.values()))}")
    if compressed and fmt in ("atomic", "parquet"):
        raise DataError(f"{path}: {fmt} files are read uncompressed; decompress it first")
    if fmt == "atomic":
        return read_atomic(path), str(path), 2
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    with reading(path):
        try:
            if fmt in ("csv", "tsv"):
                frame = pd.read_csv(path, sep="," if fmt == "csv" else "\t", dtype=str, keep_default_na=False,
                                    encoding="utf-8")
                return frame, str(path), 2
            if fmt == "jsonl":
                lines = not _is_json_array(path)
                return pd.read_json(path, lines=lines, dtype=False, encoding="utf-8"), str(path), int(lines)
            if fmt == "parquet":
                return pd.read_parquet(path), str(path), 0
        except UnicodeDecodeError:
            raise  # reading() names the line and column
        except (ValueError, pd.errors.ParserError) as err:
            raise DataError(f"{path}: cannot be read as {fmt}: {err}") from None
        except TypeError:
            # pandas' message for a JSON line that is a list or a number says nothing of the file.
            raise DataError(f"{path}: cannot be read as {fmt}: every record must be a JSON object of field: value "
                            "(found a list or a bare value)") from None
    raise DataError(f"unknown format {fmt!r}; expected one of {sorted(set(_FORMATS.values()))}")


def _require_columns(frame: pd.DataFrame, wanted: dict[str, str], name: str) -> None:
    for role, column in wanted.items():
        if column not in frame.columns:
            raise DataError(f"{name}: no {role} column {column!r}; the columns are {list(frame.columns)}. "
                            f"Map yours with ColumnMap({role}=...)")
