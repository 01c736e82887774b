"""Goodreads (UCSD Book Graph), a folder of one genre's files or the full dump, as downloaded:

* ``goodreads_interactions_<genre>.json.gz`` (or ``goodreads_interactions_dedup.json.gz``):
  ``user_id``, ``book_id``, ``rating`` (0 to 5; 0 means shelved without a rating, read here as
  no rating rather than the worst one), ``date_added`` as ``"Mon Aug 01 13:41:57 -0700 2016"``;
* ``goodreads_books_<genre>.json.gz`` (or ``goodreads_books.json.gz``): ``book_id``, ``title``,
  ``publication_year``, ``popular_shelves`` (``[{"count": "3", "name": "to-read"}, ...]``);
* optionally ``goodreads_book_genres_initial.json.gz`` (``book_id``, ``genres`` as
  ``{"history, historical fiction, biography": 7, ...}``).

Items read as "Title (Year)". Categories: the genres file's labels, most voted first, when the
folder holds it; else the three most used shelves that name a genre (reading-status and
ownership shelves such as "to-read" or "owned" left out).

The CSV edition (``goodreads_interactions.csv``) has no dates and renumbered ids, so it is not read.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..interactions import ColumnMap, InteractionLog
from .common import json_columns, one_file, records, titled_catalog

__all__ = ["goodreads", "GENERIC_SHELVES"]

DATE_FORMAT = "%a %b %d %H:%M:%S %z %Y"
# Shelves that say what the reader did or owns, not what the book is.
GENERIC_SHELVES = {
    "to-read", "currently-reading", "read", "favorites", "favourites", "owned", "books-i-own", "owned-books",
    "my-books", "i-own", "my-library", "default", "library", "wish-list", "wishlist", "to-buy", "kindle",
    "ebook", "ebooks", "e-book", "e-books", "audiobook", "audiobooks", "audio", "audible", "did-not-finish", "dnf",
    "abandoned", "re-read", "reread", "on-hold", "tbr", "unread", "book-club", "borrowed", "library-books",
    "owned-tbr", "to-read-owned", "read-in-english", "kindle-books", "nook", "paperback", "hardcover", "series",
    "stand-alone", "standalone", "fiction", "non-fiction", "nonfiction", "books", "default-shelf", "maybe",
}
_DATED = re.compile(r"\d")  # "2015-reads", "read-in-2019": when, not what


def _shelf_labels(shelves, keep: int = 3) -> list[str]:
    if not isinstance(shelves, (list, tuple, np.ndarray)):
        return []
    ranked = sorted((s for s in shelves if isinstance(s, dict) and s.get("name")),
                    key=lambda s: -int(s.get("count") or 0))
    names = [s["name"] for s in ranked if s["name"].lower() not in GENERIC_SHELVES and not _DATED.search(s["name"])]
    return names[:keep]


def _genre_labels(genres) -> list[str]:
    if not isinstance(genres, dict):
        return []
    ranked = sorted(genres.items(), key=lambda kv: -(kv[1] or 0))
    return list(dict.fromkeys(label.strip() for key, _ in ranked for label in key.split(",") if label.strip()))


def goodreads(folder: str | Path, *, category_path: str = "all", max_text_chars: int = 300) -> InteractionLog:
    folder = Path(folder).expanduser()
    books = records(one_file(folder, ("goodreads_books*.json", "goodreads_books*.json.gz"), "books"),
                    ("book_id", "title", "publication_year", "popular_shelves"))
    genres_file = one_file(folder, ("goodreads_book_genres*.json", "goodreads_book_genres*.json.gz"), "genres",
                           required=False)
    if genres_file is not None:
        table = records(genres_file, ("book_id", "genres"))
        by_book = dict(zip(table["book_id"].astype(str), table["genres"]))
        cats = [_genre_labels(by_book.get(str(b))) for b in books["book_id"]]
    else:
        cats = [_shelf_labels(s) for s in books["popular_shelves"]]
    catalog = titled_catalog(books.drop(columns=["popular_shelves"]), "book_id", ("title", "publication_year"), cats,
                             str(folder), category_path, max_text_chars)
    log = json_columns(one_file(folder, ("goodreads_interactions*.json", "goodreads_interactions*.json.gz"),
                                "interactions"),
                       {"user_id": "string", "book_id": "string", "rating": "float", "date_added": "string"})
    log["rating"] = log["rating"].where(log["rating"] > 0)  # 0: shelved, not rated
    return InteractionLog.load(log, catalog=catalog, name=folder.name, columns=ColumnMap(
        user="user_id", item="book_id", time="date_added", rating="rating", time_unit=DATE_FORMAT))
