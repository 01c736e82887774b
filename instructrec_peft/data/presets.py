"""Published dataset layouts, read as they are downloaded (``DataArguments.data_preset``).

``amazon-2023``: a folder with one category of Amazon Reviews 2023 (McAuley lab):
``<Category>.jsonl(.gz)`` (``user_id``, ``parent_asin``, ``rating``, ``timestamp`` in milliseconds)
and ``meta_<Category>.jsonl(.gz)`` (``parent_asin``, ``title``, ``store``, ``categories`` as a
flat list, ``main_category`` when it is empty). Items read as "Title (Store)".

``amazon-2018`` / ``amazon-2014``: ``<Category>.json(.gz)`` or ``<Category>_5.json(.gz)``
(``reviewerID``, ``asin``, ``overall``, ``unixReviewTime``) and ``meta_<Category>.json(.gz)``
(``asin``, ``title``, ``brand``, ``category`` as a flat list in 2018, ``categories`` as a list of
paths in 2014, whose lines are Python literals: read with ``ast.literal_eval``, never ``eval``).

``movielens``: a folder of one of GroupLens' MovieLens releases, whichever files it holds:

* ML-100K raw: ``u.data`` (tab-separated user, item, rating, seconds) and ``u.item``
  (``|``-separated, latin-1: id, title, release date, video date, IMDb URL, 19 genre flags);
* ML-1M and ML-10M: ``ratings.dat`` (``UserID::MovieID::Rating::Timestamp``) and ``movies.dat``
  (``MovieID::Title::Genres``, genres ``|``-separated; ML-1M is latin-1);
* ML-20M, 25M, 32M and the small "latest": ``ratings.csv`` and ``movies.csv`` (UTF-8).

Titles already carry the year ("Toy Story (1995)"), so they are the item text; genres are the
categories (``(no genres listed)`` and ``unknown`` left out).

>>> log = load_preset("movielens", "~/data/ml-1m")       # doctest: +SKIP
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .interactions import ColumnMap, InteractionLog, ItemCatalog, open_text

__all__ = ["PRESETS", "PRESET_VOCABULARY", "load_preset"]

ML100K_GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
                 "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
                 "War", "Western")


def _read(path: Path, sep: str, names: list[str], encoding: str) -> pd.DataFrame:
    try:
        # A multi-character separator ("::") needs the python engine; every value stays text.
        return pd.read_csv(path, sep=sep, names=names, header=None, dtype=str, encoding=encoding,
                           engine="python" if len(sep) > 1 else "c", keep_default_na=False)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not in the MovieLens layout ({err})") from None


def _genres(values: pd.Series) -> pd.Series:
    return values.map(lambda text: [g for g in text.split("|") if g and g != "(no genres listed)"])


def movielens(folder: str | Path) -> InteractionLog:
    """A MovieLens release folder (see the module docstring for the layouts)."""
    folder = Path(folder).expanduser()
    if (folder / "u.data").is_file() and (folder / "u.item").is_file():
        ratings = _read(folder / "u.data", "\t", ["user_id", "item_id", "rating", "timestamp"], "latin-1")
        items = _read(folder / "u.item", "|", ["item_id", "title", "released", "video", "url", *ML100K_GENRES],
                      "latin-1")
        flags = items[list(ML100K_GENRES)].eq("1")
        items = items.assign(genres=[[g for g, on in zip(ML100K_GENRES, row) if on] for row in flags.to_numpy()])
    elif (folder / "ratings.dat").is_file() and (folder / "movies.dat").is_file():
        ratings = _read(folder / "ratings.dat", "::", ["user_id", "item_id", "rating", "timestamp"], "latin-1")
        items = _read(folder / "movies.dat", "::", ["item_id", "title", "genres"], "latin-1")
        items = items.assign(genres=_genres(items["genres"]))
    elif (folder / "ratings.csv").is_file() and (folder / "movies.csv").is_file():
        ratings = pd.read_csv(folder / "ratings.csv", dtype=str, keep_default_na=False).rename(
            columns={"userId": "user_id", "movieId": "item_id"})
        items = pd.read_csv(folder / "movies.csv", dtype=str, keep_default_na=False).rename(
            columns={"movieId": "item_id"})
        items = items.assign(genres=_genres(items["genres"]))
    else:
        raise DataError(f"{folder}: no MovieLens files (u.data + u.item, ratings.dat + movies.dat, or "
                        "ratings.csv + movies.csv)")
    catalog = ItemCatalog(items.set_index("item_id")[["title", "genres"]], text_fields=("title",),
                          category_field="genres", source=str(folder))
    return InteractionLog.load(ratings, catalog=catalog, columns=ColumnMap(), name=folder.name)


def _one(folder: Path, patterns: tuple[str, ...], what: str) -> Path:
    found = sorted(p for pattern in patterns for p in folder.glob(pattern))
    if len(found) != 1:
        raise DataError(f"{folder}: expected one {what} file ({' or '.join(patterns)}), found "
                        f"{[p.name for p in found] or 'none'}")
    return found[0]


def _records(path: Path) -> pd.DataFrame:
    """JSON Lines, or Python-literal lines (Amazon's 2014 metadata): parsed, never evaluated."""
    rows = []
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                try:
                    rows.append(ast.literal_eval(line))
                except (ValueError, SyntaxError):
                    raise DataError(f"{path}, line {number}: neither JSON nor a Python literal") from None
    if not rows:
        raise DataError(f"{path}: no records")
    return pd.DataFrame(rows)


def _labels(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []


def amazon_2023(folder: str | Path) -> InteractionLog:
    """One category of Amazon Reviews 2023 (see the module docstring)."""
    folder = Path(folder).expanduser()
    meta = _one(folder, ("meta_*.jsonl", "meta_*.jsonl.gz"), "metadata")
    reviews = _one(folder, ("[!m]*.jsonl", "[!m]*.jsonl.gz"), "reviews")
    frame = _records(meta)
    main = frame["main_category"] if "main_category" in frame.columns else pd.Series([None] * len(frame))
    cats = [(_labels(c) or ([m] if isinstance(m, str) and m else [])) for c, m in
            zip(frame.get("categories", pd.Series([None] * len(frame))), main)]
    return _amazon_from(folder, reviews, frame.assign(categories=cats), "user_id", "parent_asin", "rating",
                        "timestamp", ("title", "store"))


def amazon_2018(folder: str | Path) -> InteractionLog:
    """One category of Amazon Reviews 2018 or 2014 (see the module docstring)."""
    folder = Path(folder).expanduser()
    meta = _one(folder, ("meta_*.json", "meta_*.json.gz"), "metadata")
    reviews = _one(folder, ("[!m]*.json", "[!m]*.json.gz"), "reviews")
    frame = _records(meta)
    # 2018: `category`, a flat list; 2014: `categories`, a list of paths (ItemCatalog cuts them).
    if "categories" not in frame.columns:
        frame["categories"] = frame["category"] if "category" in frame.columns else [[] for _ in range(len(frame))]
    return _amazon_from(folder, reviews, frame, "reviewerID", "asin", "overall", "unixReviewTime", ("title", "brand"))


def _amazon_from(folder, reviews, meta_frame, user, item, rating, time, text_fields) -> InteractionLog:
    # Reads whole files into memory: fine for a category's 5-core, not yet for the largest dumps.
    log = _records(reviews)
    items = meta_frame.drop_duplicates(subset=[item]).copy()
    items[item] = items[item].astype(str)
    items = items.set_index(item)
    for column in text_fields:
        if column not in items.columns:
            items[column] = ""
    items["title"] = items["title"].fillna("").astype(str).str.strip()
    items = items[items["title"] != ""]  # an item without a name cannot be shown; its reviews are dropped
    items = items.assign(categories=[_labels(c) for c in items["categories"]])
    catalog = ItemCatalog(items[list(text_fields) + ["categories"]], text_fields=text_fields,
                          category_field="categories", source=str(folder))
    return InteractionLog.load(log, columns=ColumnMap(user=user, item=item, time=time, rating=rating),
                               catalog=catalog, name=folder.name)


PRESETS = {"movielens": movielens, "amazon-2023": amazon_2023, "amazon-2018": amazon_2018,
           "amazon-2014": amazon_2018}
PRESET_VOCABULARY = {"movielens": "movie", "amazon-2023": "product", "amazon-2018": "product",
                     "amazon-2014": "product"}


def load_preset(name: str, path: str | Path) -> InteractionLog:
    """The log of a published dataset in its downloaded layout: one of :data:`PRESETS`."""
    if name not in PRESETS:
        raise DataError(f"unknown data preset {name!r}; expected one of {sorted(PRESETS)}")
    return PRESETS[name](path)
