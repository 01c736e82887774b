"""Published dataset layouts, read as they are downloaded (``DataArguments.data_preset``).

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

from pathlib import Path

import pandas as pd

from ..errors import DataError
from .interactions import ColumnMap, InteractionLog, ItemCatalog

__all__ = ["PRESETS", "load_preset"]

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


PRESETS = {"movielens": movielens}


def load_preset(name: str, path: str | Path) -> InteractionLog:
    """The log of a published dataset in its downloaded layout: one of :data:`PRESETS`."""
    if name not in PRESETS:
        raise DataError(f"unknown data preset {name!r}; expected one of {sorted(PRESETS)}")
    return PRESETS[name](path)
