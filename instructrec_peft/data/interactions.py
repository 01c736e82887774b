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
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError, DataError
from .atomic import read_atomic
from .file_errors import MAX_FIELD_CHARS, reading
from .plain_text import plain_text

logger = logging.getLogger(__name__)

__all__ = ["ColumnMap", "ItemCatalog", "CleaningReport", "InteractionLog", "read_table", "open_text", "clean",
           "parse_times", "TIME_UNITS"]

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


TIME_UNITS = ("auto", "s", "ms", "us", "iso")
_PER_SECOND = {"s": 1.0, "ms": 1e3, "us": 1e6}


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


def _where(name: str, first_line: int, row: int) -> str:
    return f"{name}, line {first_line + row}" if first_line else f"{name}, row {row}"


def _require_columns(frame: pd.DataFrame, wanted: dict[str, str], name: str) -> None:
    for role, column in wanted.items():
        if column not in frame.columns:
            raise DataError(f"{name}: no {role} column {column!r}; the columns are {list(frame.columns)}. "
                            f"Map yours with ColumnMap({role}=...)")


def _date(seconds: float) -> str:
    if not -62135596800 <= seconds < 253402300800:  # datetime's years 1 to 9999
        return "after year 9999" if seconds > 0 else "before year 1"
    return (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%d")


def _dates(values: pd.Series, unit: str, column: str, where: str, first_line: int) -> pd.Series:
    """Text dates -> seconds: ISO 8601, or a strptime format; a value that does not parse is an error."""
    text = values.astype("string").str.strip().replace("", pd.NA)
    fmt = "ISO8601" if unit in ("auto", "iso") else unit
    parsed = pd.to_datetime(text, format=fmt, utc=True, errors="coerce")
    bad = parsed.isna() & text.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        hint = ("is neither a number nor an ISO 8601 date; for another date layout set time_unit to its strptime "
                "format" if unit == "auto" else f"does not match time_unit {unit!r}")
        raise DataError(f"{_where(where, first_line, row)}: {column} {values.iloc[row]!r} {hint}")
    return (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()


def parse_times(values: pd.Series, unit: str = "auto", column: str = "timestamp", where: str = "log",
                first_line: int = 0) -> tuple[pd.Series, str, list[str]]:
    """Timestamps -> float seconds since 1970, with a line saying how they were read and warnings
    for readings that look wrong (dates in 1970 or after 2100, the marks of a wrong unit)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        seconds = values.astype("int64") / 1e9
        return seconds, f"{column}: datetime values", []
    numeric = pd.to_numeric(values, errors="coerce")
    text = numeric.isna() & values.notna() & (values.astype(str) != "")
    if unit == "auto" and text.any() and numeric.notna().any():  # numbers and text: one of them is wrong
        row = int(np.flatnonzero(text.to_numpy())[0])
        raise DataError(f"{_where(where, first_line, row)}: {column} {values.iloc[row]!r} is neither a number nor an "
                        "ISO 8601 date; for another date layout set time_unit to its strptime format")
    if unit == "iso" or "%" in unit or (unit == "auto" and text.any()):
        seconds = _dates(values, unit, column, where, first_line)
        how = f"{column}: dates ({'ISO 8601' if unit in ('auto', 'iso') else unit})"
    else:
        if text.any():
            row = int(np.flatnonzero(text.to_numpy())[0])
            raise DataError(f"{_where(where, first_line, row)}: {column} {values.iloc[row]!r} is not a number, "
                            f"as time_unit {unit!r} says; set time_unit: iso (or auto) for dates")
        numeric = numeric.astype("float64")
        infinite = np.isinf(numeric.to_numpy())
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise DataError(f"{_where(where, first_line, row)}: {column} {values.iloc[row]!r} is not a finite time")
        detected = unit == "auto"
        if detected:
            # Seconds since 1970 stay under 1e11 until the year 5138; milliseconds pass it from March 1973.
            size = float(numeric.abs().median()) if numeric.notna().any() else 0.0
            unit = "us" if size >= 1e14 else "ms" if size >= 1e11 else "s"
        seconds = numeric / _PER_SECOND[unit]
        word = {"s": "seconds", "ms": "milliseconds", "us": "microseconds"}[unit]
        how = f"{column}: numbers read as {word}" + (" (detected from their size)" if detected else "")
    warnings = []
    known = seconds.dropna()
    if len(known):
        low, high = float(known.min()), float(known.max())
        example = values.iloc[int(np.flatnonzero(seconds.notna().to_numpy())[int(np.argmax(known.to_numpy()))])]
        example = example.item() if isinstance(example, np.generic) else example
        how += f", {_date(low)} to {_date(high)}"
        if high >= 4102444800:  # 2100-01-01
            warnings.append(f"{column}: timestamps reach {_date(high)} (e.g. {example!r}); if they are milliseconds "
                            "or microseconds read as seconds, set time_unit: ms or us")
        elif high < 31536000 and unit in ("ms", "us"):  # all within 1970, from a unit the user chose
            warnings.append(f"{column}: every timestamp falls in 1970 (e.g. {example!r}) when read as {unit}; if "
                            "they are seconds, set time_unit: s (or auto)")
        elif high < 31536000:
            how += " (numbers that only order the events, it seems: their order is all that is used)"
    return seconds, how, warnings


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


def _cut(text: str, budget: int) -> str:
    """``text`` within ``budget`` characters, cut at a word boundary when one is near, marked with "..."."""
    if len(text) <= budget:
        return text
    head = text[: budget - 3]
    space = head.rfind(" ")
    return (head[:space] if space >= budget // 2 else head).rstrip(" ,;:") + "..."


def _fit(name: str, extras: list[str], budget: int) -> str:
    """"Name (extra, extra)" within ``budget``: the name first (cut only if it alone is too long),
    then as much of the extra fields as fits."""
    if len(name) + 5 > budget:
        return _cut(name, budget)
    inside = _cut(", ".join(extras), budget - len(name) - 3)
    return f"{name} ({inside})" if inside != "..." else name


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

    ``max_text_chars`` is each item's character budget: the name is kept whole when it fits and
    the further fields fill the rest, cut at a word boundary ("..."); ``truncated`` counts the
    items cut.
    """

    frame: pd.DataFrame
    text_fields: tuple[str, ...]
    category_field: str | None = None
    category_sep: str | None = None
    category_path: str = "all"
    max_text_chars: int = 300
    source: str = "items"
    texts: dict[str, str] = field(init=False, repr=False)
    truncated: int = field(init=False, default=0)  # texts cut to max_text_chars
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
        if self.max_text_chars < 8:
            raise DataError(f"{self.source}: max_text_chars={self.max_text_chars} leaves no room for a name")
        self.texts, self.truncated = {}, 0
        columns = [self.frame[c].fillna("").astype(str).str.strip().to_numpy() for c in self.text_fields]
        for name, column in zip(self.text_fields, columns):
            lengths = np.fromiter(map(len, column), dtype=np.int64, count=len(column))
            if len(lengths) and lengths.max() > MAX_FIELD_CHARS:
                row = int(lengths.argmax())
                raise DataError(f"{self.source}: item {self.frame.index[row]!r}: field {name!r} holds "
                                f"{lengths[row]:,} characters, over the {MAX_FIELD_CHARS:,} one field may hold; is "
                                "the file what it claims to be?")
        for row, item in enumerate(self.frame.index):
            head, *rest = (col[row] for col in columns)
            rest = [v for v in rest if v]
            text = f"{head} ({', '.join(rest)})" if rest else head
            if not head:
                raise DataError(f"{self.source}: item {item!r} has an empty {self.text_fields[0]!r}; "
                                "every item needs a name the model can read")
            if len(text) > self.max_text_chars:
                text = _fit(head, rest, self.max_text_chars)
                self.truncated += 1
            # Data text stays text: a title like "<|endoftext|>" must not become that token.
            self.texts[item] = plain_text(text)
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
            labels = [plain_text(x.strip()) for x in labels if x.strip() and x.strip().lower() != "unknown"]
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
                raise DataError(f"{_where(where, first_line, row)}: rating {frame[columns.rating].iloc[row]!r} "
                                "is not a number")
            infinite = np.isinf(rating.to_numpy(dtype="float64", na_value=np.nan))
            if infinite.any():
                row = int(np.flatnonzero(infinite)[0])
                raise DataError(f"{_where(where, first_line, row)}: rating {frame[columns.rating].iloc[row]!r} is "
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
