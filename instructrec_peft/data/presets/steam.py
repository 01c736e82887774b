"""Steam (UCSD, the version of Kang and McAuley's SASRec paper), a folder as downloaded:

* ``steam_reviews.json.gz``: Python-literal lines with ``username``, ``product_id`` and ``date``
  (``"2017-12-17"``); no ratings (implicit feedback);
* ``steam_games.json.gz``: Python-literal lines with ``id``, ``app_name`` (or ``title``),
  ``genres`` and ``tags``.

Items read by their app name; categories are the genres, or the user tags for a game without
genres. Users are keyed by ``username``, which every review has.

The "Australian" edition (``australian_user_reviews.json.gz``) dates reviews as "Posted July 15."
without a year for the year it was collected, so it cannot be ordered in time and is not read.
"""

from __future__ import annotations

from pathlib import Path

from ..interactions import ColumnMap, InteractionLog
from .common import labels, one_file, records, titled_catalog

__all__ = ["steam"]


def steam(folder: str | Path, *, category_path: str = "all", max_text_chars: int = 300) -> InteractionLog:
    folder = Path(folder).expanduser()
    games = records(one_file(folder, ("steam_games.json", "steam_games.json.gz"), "games"),
                    ("id", "app_name", "title", "genres", "tags"))
    games = games[games["id"].notna()]
    games = games.assign(name=games["app_name"].where(games["app_name"].notna(), games["title"]))
    cats = [labels(g) or labels(t) for g, t in zip(games["genres"], games["tags"])]
    catalog = titled_catalog(games, "id", ("name",), cats, str(folder), category_path, max_text_chars)
    reviews = records(one_file(folder, ("steam_reviews.json", "steam_reviews.json.gz"), "reviews"),
                      ("username", "product_id", "date"))
    return InteractionLog.load(reviews, catalog=catalog, name=folder.name, columns=ColumnMap(
        user="username", item="product_id", time="date", rating=None, time_unit="iso"))
