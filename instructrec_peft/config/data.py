"""Settings of the data source: where the log is, which columns hold what, how item text and
categories are read, and which users and items are kept."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.presets import PRESETS
from ..data.times import TIME_UNITS
from .settings import check_choices, fail, setting

__all__ = ["DataSourceArguments"]


@dataclass
class DataSourceArguments:
    dataset: str = setting("ml-100k", "'ml-100k' (the demo's) or 'ml-1m' (fetched assets, read in their own "
                                      "layout), a RecBole dataset directory, or an interactions file")
    items_file: str | None = setting(None, "item metadata file (for an interactions file)")
    data_preset: str | None = setting(
        None, "a published layout read as downloaded, dataset being its folder (data/presets/)",
        choices=sorted(PRESETS))
    data_format: str | None = setting(None, "the file's format; default: its suffix",
                                      choices=("csv", "tsv", "jsonl", "parquet", "atomic"))
    user_column: str = setting("user_id", "the interactions file's user column")
    item_column: str = setting("item_id", "the interactions file's item column")
    time_column: str = setting("timestamp", "the interactions file's time column")
    time_unit: str = setting(
        "auto", "an interactions file's times (presets know theirs): auto (numbers: s/ms/us by size; text: ISO "
                "8601), s, ms, us, iso, or a strptime format")
    rating_column: str | None = setting("rating", "the rating column; empty for logs without ratings")
    item_id_column: str = setting("item_id", "the items file's id column")
    item_text_fields: list[str] = setting(help="item name first, then fields shown in parentheses",
                                          default_factory=lambda: ["movie_title", "release_year"])
    category_field: str | None = setting("class", "item categories (intentions, P2); empty for items without")
    category_sep: str | None = setting(None, "category separator; default whitespace")
    category_path: str = setting(
        "all", "categories given as paths (Amazon's [[top, ..., leaf]]): all levels, the leaf, or the first n")
    max_item_text_chars: int = setting(300, "character budget of an item's text: the name, then further fields "
                                            "cut to fit")
    min_interactions: int = setting(3, "users with fewer are train-only")
    min_user_interactions: int = setting(
        0, "k-core: drop users with fewer interactions (with min_item_interactions, until both hold)")
    min_item_interactions: int = setting(0, "k-core: drop items with fewer interactions")
    item_categories: list[str] | None = setting(
        None, "a catalogue domain: keep only items whose categories are all listed (domains.py)")

    def _check_source(self) -> None:
        name = type(self).__name__
        if self.rating_column == "":
            self.rating_column = None
        if self.category_field == "":
            self.category_field = None  # as for ratings: empty means the items have no categories
        if self.min_interactions < 1:
            fail(name, "min_interactions", f"must be >= 1, got {self.min_interactions}")
        if not self.item_text_fields:
            fail(name, "item_text_fields", "empty; name at least the item-name column")
        for key in ("min_user_interactions", "min_item_interactions"):
            if getattr(self, key) < 0:
                fail(name, key, f"must be >= 0 (0: no filter), got {getattr(self, key)}")
        if self.max_item_text_chars < 8:
            fail(name, "max_item_text_chars", f"must be >= 8, got {self.max_item_text_chars}")
        if self.time_unit not in TIME_UNITS and "%" not in self.time_unit:
            fail(name, "time_unit", f"{self.time_unit!r} is not one of {TIME_UNITS} or a strptime format (with %)")
        if self.category_path not in ("all", "leaf") and not (self.category_path.isdigit()
                                                                and int(self.category_path) >= 1):
            fail(name, "category_path", f"{self.category_path!r} is not 'all', 'leaf' or a number of levels >= 1")
        if self.item_categories is not None and not self.item_categories:
            fail(name, "item_categories", "empty; name the domain's categories, or leave it unset for every item")
        check_choices(self)
