"""The item catalogue: each item's metadata, the text a language model reads for it ("Toy Story
(1995)", cut to a budget at a word boundary) and its category labels (for intentions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .cleaning import _id_column
from .file_errors import MAX_FIELD_CHARS
from .plain_text import plain_text
from .tables import _require_columns, read_table


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


def _field_text(values: pd.Series) -> np.ndarray:
    """A text field's values as strings; whole numbers read as floats (RecBole types a year
    ``float``) are written as the integers they are, "1995" and not "1995.0"."""
    if pd.api.types.is_float_dtype(values):
        values = values.map(lambda v: str(int(v)) if np.isfinite(v) and v == int(v) else v)
    return values.fillna("").astype(str).str.strip().to_numpy()


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
        columns = [_field_text(self.frame[c]) for c in self.text_fields]
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
