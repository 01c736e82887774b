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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError, DataError
from .atomic import read_atomic

__all__ = ["ColumnMap", "ItemCatalog", "CleaningReport", "InteractionLog", "read_table", "open_text", "clean"]

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
    """Which source columns hold the user, item, time and (optional) rating."""

    user: str = "user_id"
    item: str = "item_id"
    time: str = "timestamp"
    rating: str | None = "rating"

    def __post_init__(self):
        names = [n for n in (self.user, self.item, self.time, self.rating) if n is not None]
        if len(set(names)) != len(names):
            raise ArgumentError(f"ColumnMap maps two roles to the same column: {names}")


def read_table(source: Any, format: str | None = None) -> tuple[pd.DataFrame, str, int]:
    """Read any supported source into a DataFrame of strings (atomic floats stay floats).

    Returns the frame, a name for messages, and the file line of row 0 (0 for in-memory sources,
    where messages say "row" instead).
    """
    if isinstance(source, pd.DataFrame):
        return source.copy(), "DataFrame", 0
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
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not valid UTF-8 ({err.reason} at byte {err.start}); re-encode the file") from None
    except (ValueError, pd.errors.ParserError) as err:
        raise DataError(f"{path}: cannot be read as {fmt}: {err}") from None
    raise DataError(f"unknown format {fmt!r}; expected one of {sorted(set(_FORMATS.values()))}")


def _where(name: str, first_line: int, row: int) -> str:
    return f"{name}, line {first_line + row}" if first_line else f"{name}, row {row}"


def _require_columns(frame: pd.DataFrame, wanted: dict[str, str], name: str) -> None:
    for role, column in wanted.items():
        if column not in frame.columns:
            raise DataError(f"{name}: no {role} column {column!r}; the columns are {list(frame.columns)}. "
                            f"Map yours with ColumnMap({role}=...)")


def _numeric_time(values: pd.Series, name: str, first_line: int) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("int64") / 1e9
    numeric = pd.to_numeric(values.replace("", np.nan), errors="coerce")
    bad = numeric.isna() & values.notna() & (values.astype(str) != "")
    if bad.any():
        # Dates written as text are fine if every one of them parses as ISO 8601.
        try:
            parsed = pd.to_datetime(values, format="ISO8601", utc=True)
            return (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()
        except (ValueError, TypeError):
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{_where(name, first_line, row)}: timestamp {values.iloc[row]!r} is neither a "
                            "number nor an ISO 8601 date") from None
    return numeric.astype("float64")


def _id_column(values: pd.Series) -> pd.Series:
    # Ids are labels, not numbers: "007" and "7" are different items, and 7.0 from a float
    # column must read as "7" to match the catalogue.
    if pd.api.types.is_float_dtype(values):
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

    def summary(self) -> str:
        dropped = self.rows_in - self.rows_out
        parts = [f"{self.rows_in} rows read, {self.rows_out} kept ({self.users} users, {self.items} items)"]
        if dropped:
            parts.append(f"dropped {dropped}: {self.missing_ids} with a missing user or item id, "
                         f"{self.missing_timestamps} with a missing timestamp, {self.duplicates} exact duplicates, "
                         f"{self.unknown_items} of items absent from the catalogue"
                         + (f", {self.outside_domain} of items outside the domain" if self.outside_domain else "")
                         + (f", {self.below_k_core} below the k-core bounds" if self.below_k_core else ""))
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


@dataclass
class ItemCatalog:
    """Item metadata and the text each item is shown as.

    ``text_fields``: the first field is the item's name; further non-empty fields follow in
    parentheses, so ``("movie_title", "release_year")`` gives ``"Toy Story (1995)"``.
    ``category_field`` holds category labels separated by ``category_sep`` (``None``: whitespace),
    or a list of them, or a list of category paths as Amazon publishes them
    (``[["Movies & TV", "Movies", "Horror"]]``), of which ``category_path`` keeps every level
    (``"all"``), the last (``"leaf"``) or the first n (``"2"``); they make the intentions of
    InstructRec (I1, I2) and the explicit preferences (P2). A text value that looks like a
    serialized list is refused: it would become one label, the list's repr.
    """

    frame: pd.DataFrame
    text_fields: tuple[str, ...]
    category_field: str | None = None
    category_sep: str | None = None
    category_path: str = "all"
    max_text_chars: int = 300
    source: str = "items"
    texts: dict[str, str] = field(init=False, repr=False)
    _categories: dict[str, list[str]] = field(init=False, repr=False)

    def __post_init__(self):
        self.text_fields = tuple(self.text_fields)
        if not self.text_fields:
            raise DataError(f"{self.source}: text_fields is empty; name at least the column holding the item name")
        for column in self.text_fields + ((self.category_field,) if self.category_field else ()):
            if column not in self.frame.columns:
                raise DataError(f"{self.source}: no column {column!r}; the columns are {list(self.frame.columns)}")
        if self.frame.index.has_duplicates:
            dup = self.frame.index[self.frame.index.duplicated()][0]
            raise DataError(f"{self.source}: item id {dup!r} appears more than once")
        self.texts = {}
        columns = [self.frame[c].fillna("").astype(str).str.strip().to_numpy() for c in self.text_fields]
        for row, item in enumerate(self.frame.index):
            head, *rest = (col[row] for col in columns)
            rest = [v for v in rest if v]
            text = f"{head} ({', '.join(rest)})" if rest else head
            if not head:
                raise DataError(f"{self.source}: item {item!r} has an empty {self.text_fields[0]!r}; "
                                "every item needs a name the model can read")
            if len(text) > self.max_text_chars:
                raise DataError(f"{self.source}: the text of item {item!r} is {len(text)} characters, over "
                                f"max_text_chars={self.max_text_chars}; shorten it or raise the limit")
            self.texts[item] = text
        self._categories = self._parse_categories()

    def __len__(self) -> int:
        return len(self.frame)

    def __contains__(self, item: str) -> bool:
        return item in self.texts

    def text(self, item: str) -> str:
        try:
            return self.texts[item]
        except KeyError:
            raise DataError(f"item {item!r} is not in the catalogue ({self.source})") from None

    def categories(self, item: str) -> list[str]:
        """The item's category labels ("unknown" and blanks left out)."""
        if item not in self.texts:
            self.text(item)  # raises the catalogue's error
        return self._categories.get(item, [])

    def _parse_categories(self) -> dict[str, list[str]]:
        if self.category_field is None:
            return {}
        if self.category_path not in ("all", "leaf") and not (self.category_path.isdigit()
                                                                and int(self.category_path) >= 1):
            raise DataError(f"{self.source}: category_path {self.category_path!r} is not 'all', 'leaf' or a number "
                            "of levels >= 1")
        parsed = {}
        for item, raw in zip(self.frame.index, self.frame[self.category_field]):
            if isinstance(raw, (list, tuple, np.ndarray)):
                labels = [label for value in raw for label in self._path_labels(value)]
            else:
                text = str(raw).strip() if raw is not None and raw == raw else ""
                if text[:1] == "[" and text[-1:] == "]":
                    raise DataError(f"{self.source}: column {self.category_field!r} holds text that looks like a "
                                    f"serialized list (item {item!r}: {text[:80]!r}); load the file so the column is "
                                    "a list (JSON Lines do), or give category_sep for a separated string")
                labels = text.split(self.category_sep) if text else []
            labels = [x.strip() for x in labels if x.strip() and x.strip().lower() != "unknown"]
            parsed[item] = list(dict.fromkeys(labels))
        return parsed

    def _path_labels(self, value) -> list[str]:
        """One element of a category list: a label, or a path of labels cut by ``category_path``."""
        if not isinstance(value, (list, tuple, np.ndarray)):
            return [str(value)]
        path = [str(v) for v in value]
        if self.category_path == "all":
            return path
        if self.category_path == "leaf":
            return path[-1:]
        return path[: int(self.category_path)]

    @classmethod
    def load(cls, source: Any, *, id_column: str = "item_id", format: str | None = None, **kwargs) -> "ItemCatalog":
        frame, name, _ = read_table(source, format)
        _require_columns(frame, {"item id": id_column}, name)
        frame = frame.assign(**{id_column: _id_column(frame[id_column])}).dropna(subset=[id_column])
        return cls(frame.set_index(id_column), source=name, **kwargs)


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
        canonical = pd.DataFrame({
            "user_id": _id_column(frame[columns.user]),
            "item_id": _id_column(frame[columns.item]),
            "timestamp": _numeric_time(frame[columns.time], where, first_line),
        })
        if columns.rating is not None and columns.rating in frame.columns:
            rating = pd.to_numeric(frame[columns.rating].replace("", np.nan), errors="coerce")
            bad = rating.isna() & frame[columns.rating].notna() & (frame[columns.rating].astype(str) != "")
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(f"{_where(where, first_line, row)}: rating {frame[columns.rating].iloc[row]!r} "
                                "is not a number")
            canonical["rating"] = rating.astype("float64")
        cleaned, report = clean(canonical, set(catalog.texts) if catalog is not None else None)
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
