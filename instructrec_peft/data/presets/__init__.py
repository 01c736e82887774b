"""Published dataset layouts, read as they are downloaded (``DataArguments.data_preset``).

One module per family, each documenting the files it expects: ``movielens``, ``amazon-2023``,
``amazon-2018`` / ``amazon-2014``, ``goodreads``, ``steam``. Each fixes the columns, the time
unit, the item text and the categories of its layout, and sets the vocabulary of the prompts.

>>> log = load_preset("movielens", "~/data/ml-1m")       # doctest: +SKIP
>>> print(log.report.summary())                          # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from ...errors import DataError
from ..interactions import InteractionLog
from .amazon import amazon_2018, amazon_2023
from .goodreads import goodreads
from .movielens import movielens
from .steam import steam

__all__ = ["PRESETS", "PRESET_VOCABULARY", "load_preset"]

PRESETS = {"movielens": movielens, "amazon-2023": amazon_2023, "amazon-2018": amazon_2018,
           "amazon-2014": amazon_2018, "goodreads": goodreads, "steam": steam}
PRESET_VOCABULARY = {"movielens": "movie", "amazon-2023": "product", "amazon-2018": "product",
                     "amazon-2014": "product", "goodreads": "book", "steam": "game"}


def load_preset(name: str, path: str | Path, *, category_path: str = "all", max_text_chars: int = 300
                ) -> InteractionLog:
    """The log of a published dataset in its downloaded layout: one of :data:`PRESETS`."""
    if name not in PRESETS:
        raise DataError(f"unknown data preset {name!r}; expected one of {sorted(PRESETS)}")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DataError(f"data preset {name!r}: {folder} is not a folder (a preset reads the folder of a download)")
    return PRESETS[name](folder, category_path=category_path, max_text_chars=max_text_chars)
