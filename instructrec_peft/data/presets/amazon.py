"""Amazon product reviews (McAuley lab), one category folder as downloaded.

``amazon-2023``: ``<Category>.jsonl(.gz)`` (``user_id``, ``parent_asin``, ``rating``,
``timestamp`` in milliseconds) and ``meta_<Category>.jsonl(.gz)`` (``parent_asin``, ``title``,
``store``, ``categories`` as a flat list, ``main_category`` when it is empty). Items read as
"Title (Store)".

``amazon-2018`` / ``amazon-2014``: ``<Category>.json(.gz)``, ``<Category>_5.json(.gz)`` or
``reviews_<Category>.json(.gz)`` (``reviewerID``, ``asin``, ``overall``, ``unixReviewTime`` in
seconds) and ``meta_<Category>.json(.gz)`` (``asin``, ``title``, ``brand``, ``category`` as a flat
list in 2018, ``categories`` as a list of paths in 2014, whose lines are Python literals).
Items read as "Title (Brand)".
"""

from __future__ import annotations

from pathlib import Path

from ..interactions import ColumnMap, InteractionLog
from .common import json_columns, labels, one_file, records, titled_catalog

__all__ = ["amazon_2023", "amazon_2018"]

META_FIELDS_2023 = ("parent_asin", "title", "store", "categories", "main_category")
META_FIELDS_2018 = ("asin", "title", "brand", "category", "categories")


def amazon_2023(folder: str | Path, *, category_path: str = "all", max_text_chars: int = 300) -> InteractionLog:
    folder = Path(folder).expanduser()
    meta = records(one_file(folder, ("meta_*.jsonl", "meta_*.jsonl.gz"), "metadata"), META_FIELDS_2023)
    reviews = one_file(folder, ("[!m]*.jsonl", "[!m]*.jsonl.gz"), "reviews")
    cats = [labels(c) or ([m] if isinstance(m, str) and m else []) for c, m in
            zip(meta["categories"], meta["main_category"])]
    catalog = titled_catalog(meta, "parent_asin", ("title", "store"), cats, str(folder), category_path,
                             max_text_chars)
    log = json_columns(reviews, {"user_id": "string", "parent_asin": "string", "rating": "float", "timestamp": "int"})
    return InteractionLog.load(log, catalog=catalog, name=folder.name, columns=ColumnMap(
        user="user_id", item="parent_asin", time="timestamp", rating="rating", time_unit="ms"))


def amazon_2018(folder: str | Path, *, category_path: str = "all", max_text_chars: int = 300) -> InteractionLog:
    """2018 or 2014: the same review fields; the metadata differs only in its category field."""
    folder = Path(folder).expanduser()
    meta = records(one_file(folder, ("meta_*.json", "meta_*.json.gz"), "metadata"), META_FIELDS_2018)
    reviews = one_file(folder, ("[!m]*.json", "[!m]*.json.gz"), "reviews")
    # 2018: `category`, a flat list; 2014: `categories`, a list of paths (ItemCatalog cuts them).
    cats = [labels(paths) or labels(flat) for paths, flat in zip(meta["categories"], meta["category"])]
    catalog = titled_catalog(meta, "asin", ("title", "brand"), cats, str(folder), category_path, max_text_chars)
    log = json_columns(reviews, {"reviewerID": "string", "asin": "string", "overall": "float",
                                 "unixReviewTime": "int"})
    return InteractionLog.load(log, catalog=catalog, name=folder.name, columns=ColumnMap(
        user="reviewerID", item="asin", time="unixReviewTime", rating="overall", time_unit="s"))
