"""MovieLens (GroupLens), one release folder as downloaded, whichever files it holds:

* ML-100K raw: ``u.data`` (tab-separated user, item, rating, seconds) and ``u.item``
  (``|``-separated, latin-1: id, title, release date, video date, IMDb URL, 19 genre flags);
* ML-1M and ML-10M: ``ratings.dat`` (``UserID::MovieID::Rating::Timestamp``) and ``movies.dat``
  (``MovieID::Title::Genres``, genres ``|``-separated; ML-1M is latin-1);
* ML-20M, 25M, 32M and the small "latest": ``ratings.csv`` and ``movies.csv`` (UTF-8).

Titles already carry the year ("Toy Story (1995)"), so they are the item text; genres are the
categories (``(no genres listed)`` and ``unknown`` left out).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...errors import DataError
from ..file_errors import reading
from ..interactions import ColumnMap, InteractionLog, ItemCatalog

__all__ = ["movielens"]

ML100K_GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
                 "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
                 "War", "Western")
RATINGS = ["user_id", "item_id", "rating", "timestamp"]


def _read(path: Path, sep: str, names: list[str], encoding: str = "utf-8", header: int | None = None) -> pd.DataFrame:
    try:
        with reading(path):
            # Every value stays text; "::" (movies.dat, whose titles hold ':') needs the python engine.
            return pd.read_csv(path, sep=sep, names=names, header=header, dtype=str, encoding=encoding,
                               engine="python" if len(sep) > 1 else "c", keep_default_na=False)
    except DataError:
        raise  # reading() named the file, line and column
    except (ValueError, pd.errors.ParserError) as err:
        raise DataError(f"{path}: not in the MovieLens layout ({err})") from None


def _ratings_dat(path: Path) -> pd.DataFrame:
    """``ratings.dat``: '::' between numbers, so splitting on ':' leaves empty columns between
    them and the fast C parser can read the 10M lines of ML-10M."""
    frame = _read(path, ":", ["user_id", "_1", "item_id", "_2", "rating", "_3", "timestamp"], "latin-1")
    if (frame[["_1", "_2", "_3"]] != "").any(axis=None):
        raise DataError(f"{path}: not in the MovieLens layout (expected UserID::MovieID::Rating::Timestamp)")
    return frame[RATINGS]


def _genres(values: pd.Series) -> pd.Series:
    return values.map(lambda text: [g for g in text.split("|") if g and g != "(no genres listed)"])


def movielens(folder: str | Path, *, category_path: str = "all", max_text_chars: int = 300) -> InteractionLog:
    folder = Path(folder).expanduser()
    if (folder / "u.data").is_file() and (folder / "u.item").is_file():
        ratings = _read(folder / "u.data", "\t", RATINGS, "latin-1")
        items = _read(folder / "u.item", "|", ["item_id", "title", "released", "video", "url", *ML100K_GENRES],
                      "latin-1")
        flags = items[list(ML100K_GENRES)].eq("1")
        items = items.assign(genres=[[g for g, on in zip(ML100K_GENRES, row) if on] for row in flags.to_numpy()])
    elif (folder / "ratings.dat").is_file() and (folder / "movies.dat").is_file():
        ratings = _ratings_dat(folder / "ratings.dat")
        items = _read(folder / "movies.dat", "::", ["item_id", "title", "genres"], "latin-1")
        items = items.assign(genres=_genres(items["genres"]))
    elif (folder / "ratings.csv").is_file() and (folder / "movies.csv").is_file():
        ratings = _read(folder / "ratings.csv", ",", RATINGS, header=0)
        items = _read(folder / "movies.csv", ",", ["item_id", "title", "genres"], header=0)
        items = items.assign(genres=_genres(items["genres"]))
    else:
        raise DataError(f"{folder}: no MovieLens files (u.data + u.item, ratings.dat + movies.dat, or "
                        "ratings.csv + movies.csv)")
    catalog = ItemCatalog(items.set_index("item_id")[["title", "genres"]], text_fields=("title",),
                          category_field="genres", category_path=category_path, max_text_chars=max_text_chars,
                          source=str(folder))
    return InteractionLog.load(ratings, catalog=catalog, columns=ColumnMap(time_unit="s"), name=folder.name)
