"""Read RecBole atomic files: tab-separated tables whose header types every column.

The header is ``name:type`` per column, the types being ``token``, ``token_seq``, ``float`` and
``float_seq`` (RecBole's own four). Example (``ml-100k.inter``)::

    user_id:token	item_id:token	rating:float	timestamp:float
    196	242	3	881250949

``token`` and ``token_seq`` columns stay strings (a ``token_seq`` like a title is kept whole:
split it where a list is meant, e.g. genres); ``float`` columns become float64. Every problem is
reported with the file, line and column.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError

__all__ = ["ATOMIC_TYPES", "parse_header", "read_atomic"]

ATOMIC_TYPES = ("token", "token_seq", "float", "float_seq")


def parse_header(line: str, path: Path | str) -> list[tuple[str, str]]:
    """``["user_id:token", ...]`` -> ``[("user_id", "token"), ...]``, validated."""
    columns = []
    for index, cell in enumerate(line.rstrip("\r\n").split("\t"), start=1):
        name, sep, kind = cell.partition(":")
        if not sep:
            raise DataError(
                f"{path}, line 1, column {index}: header cell {cell!r} has no type; atomic files "
                f"declare every column as name:type with type one of {', '.join(ATOMIC_TYPES)}"
            )
        if kind not in ATOMIC_TYPES:
            raise DataError(
                f"{path}, line 1, column {index}: unknown type {kind!r} in {cell!r}; "
                f"expected one of {', '.join(ATOMIC_TYPES)}"
            )
        if not name:
            raise DataError(f"{path}, line 1, column {index}: header cell {cell!r} has an empty name")
        if name in (c for c, _ in columns):
            raise DataError(f"{path}, line 1, column {index}: duplicate column name {name!r}")
        columns.append((name, kind))
    return columns


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise DataError(
            f"{path}, line {line}: bytes {raw[err.start:err.end]!r} are not valid UTF-8; "
            "re-encode the file as UTF-8"
        ) from None


def read_atomic(path: Path | str) -> pd.DataFrame:
    """Load one atomic file into a DataFrame whose columns are the header names without types."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    text = _decode(path.read_bytes(), path)
    if not text.strip():
        raise DataError(f"{path}: the file is empty; an atomic file starts with a typed header line")
    header, _, body = text.partition("\n")
    columns = parse_header(header, path)
    names = [name for name, _ in columns]
    if not body.strip():
        raise DataError(f"{path}: the header is followed by no rows")
    try:
        frame = pd.read_csv(
            io.StringIO(body), sep="\t", header=None, names=names, dtype=str, keep_default_na=False,
            quoting=csv.QUOTE_NONE, engine="c", skip_blank_lines=True, on_bad_lines="error",
        )
    except pd.errors.ParserError as err:
        # pandas counts lines of the body; the header is line 1 of the file.
        raise DataError(f"{path}: {err} (line numbers counted after the header line)") from None
    for name, kind in columns:
        if kind == "float":
            frame[name] = _to_float(frame[name], path, name, body)
    return frame


def _to_float(column: pd.Series, path: Path, name: str, body: str) -> pd.Series:
    values = pd.to_numeric(column.replace("", np.nan), errors="coerce")
    bad = values.isna() & (column != "")
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        line = _file_line(body, position)
        raise DataError(
            f"{path}, line {line}, column {name!r}: {column.iloc[position]!r} is not a number "
            f"(the header declares {name}:float)"
        )
    return values.astype("float64")


def _file_line(body: str, row: int) -> int:
    """The file line of data row ``row`` (0-based), skipping blank lines as the parser does."""
    seen = -1
    for number, line in enumerate(body.split("\n"), start=2):
        if line.strip():
            seen += 1
            if seen == row:
                return number
    return row + 2
