"""What the presets share: readers of the record files published datasets come in, lean enough
for tens of millions of lines, and the catalogue of the items that have a name.

:func:`json_columns` reads JSON Lines (gzip or bz2 too) with pyarrow's multi-threaded reader and
an explicit schema, so only the named fields are parsed and held (review texts, images and the
like are skipped while reading, not dropped afterwards). :func:`records` reads lines one at a
time as JSON or, failing that, as a Python literal (Amazon's 2014 metadata, the UCSD Steam
files): parsed with ``ast.literal_eval``, never evaluated; it too keeps only the named fields.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd

from ...errors import DataError
from ..file_errors import reading
from ..interactions import ItemCatalog, open_text

__all__ = ["one_file", "json_columns", "records", "titled_catalog", "labels"]


def one_file(folder: Path, patterns: tuple[str, ...], what: str, required: bool = True) -> Path | None:
    """The single file of ``folder`` matching one of ``patterns`` (an error for none or several)."""
    found = sorted({p for pattern in patterns for p in folder.glob(pattern)})
    if len(found) == 1:
        return found[0]
    if not found and not required:
        return None
    raise DataError(f"{folder}: expected one {what} file ({' or '.join(patterns)}), found "
                    f"{[p.name for p in found] or 'none'}")


def json_columns(path: Path, fields: dict[str, str]) -> pd.DataFrame:
    """The ``fields`` (name -> "string" | "float" | "int") of a JSON Lines file, as a DataFrame.

    A file pyarrow cannot read this way (Python-literal lines, a field of another type) is read
    by :func:`records` instead, slower but with the same result."""
    import pyarrow as pa
    import pyarrow.json as pj

    types = {"string": pa.string(), "float": pa.float64(), "int": pa.int64()}
    schema = pa.schema([(name, types[kind]) for name, kind in fields.items()])
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        with reading(path), pa.input_stream(str(path), compression="detect") as stream:
            table = pj.read_json(stream, parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return records(path, tuple(fields))
    if table.num_rows == 0:
        raise DataError(f"{path}: no records")
    return table.to_pandas()


def records(path: Path, fields: tuple[str, ...] | None = None) -> pd.DataFrame:
    """JSON or Python-literal lines, keeping ``fields`` (all when ``None``); parsed, never evaluated."""
    rows = []
    with reading(path), open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as err:
                if not isinstance(err, json.JSONDecodeError):  # e.g. a number of more than 4300 digits
                    raise DataError(f"{path}, line {number}: {err}") from None
                try:
                    row = ast.literal_eval(line)
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    raise DataError(f"{path}, line {number}: neither JSON nor a Python literal") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}, line {number}: a record must be an object, got {type(row).__name__}")
            rows.append(row if fields is None else {name: row.get(name) for name in fields})
    if not rows:
        raise DataError(f"{path}: no records")
    return pd.DataFrame(rows, columns=list(fields) if fields else None)


def titled_catalog(items: pd.DataFrame, id_field: str, text_fields: tuple[str, ...], categories: list[list],
                   source: str, category_path: str = "all", max_text_chars: int = 300) -> ItemCatalog:
    """The catalogue of ``items`` (one row per id, first kept) with a non-empty name: an item
    without one cannot be shown to the model, so it is left out (and so are its interactions)."""
    frame = items.assign(categories=categories).drop_duplicates(subset=[id_field])
    frame = frame.assign(**{id_field: frame[id_field].astype(str)}).set_index(id_field)
    for column in text_fields:
        frame[column] = frame[column].fillna("").astype(str).str.strip() if column in frame.columns else ""
    frame = frame[frame[text_fields[0]] != ""]
    if frame.empty:
        raise DataError(f"{source}: no item has a {text_fields[0]!r}")
    return ItemCatalog(frame[list(text_fields) + ["categories"]], text_fields=text_fields,
                       category_field="categories", category_path=category_path, max_text_chars=max_text_chars,
                       source=source)


def labels(value) -> list:
    """A list field's items ([] for a missing value)."""
    return list(value) if isinstance(value, (list, tuple)) else []
