"""Held-out intention phrasings: how a user might ask for a category in words no training
template or intention phrase uses ("a few laughs", "a film for the kids", "a whodunit").

They exist to measure whether a tuned model reads an intention it was never shown, which is where
a language model should beat a keyword filter (a filter cannot match "a whodunit" to Mystery).
So they are for evaluation only: nothing in training reads this module, and
``tests/test_paraphrases.py`` checks that no training wording (the I1 mood phrases, the I2
"a <categories> <noun>" form) equals, contains or is contained in one of them, and that none
names its category outright.

>>> phrasings = heldout_phrasings()
>>> len(phrasings["Comedy"]) >= 5, phrasings["Comedy"][0]
(True, 'a few laughs')
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from ..errors import DataError

__all__ = ["heldout_phrasings", "PHRASINGS_FILE", "MIN_PHRASINGS"]

PHRASINGS_FILE = Path(__file__).with_name("paraphrases.json")
MIN_PHRASINGS = 5  # per category: enough to average over wordings, not over one lucky phrase


@lru_cache(maxsize=None)
def _load(path: str) -> dict[str, tuple[str, ...]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    phrasings = data.get("phrasings") if isinstance(data, dict) else None
    if not isinstance(phrasings, dict) or not phrasings:
        raise DataError(f"{path}: expected {{\"phrasings\": {{category: [phrasing, ...]}}}}")
    out = {}
    for category, phrases in phrasings.items():
        if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise DataError(f"{path}: {category!r}: a list of non-empty phrasings, got {phrases!r}")
        if len(phrases) < MIN_PHRASINGS:
            raise DataError(f"{path}: {category!r} has {len(phrases)} phrasings, fewer than {MIN_PHRASINGS}")
        if len(set(phrases)) != len(phrases):
            raise DataError(f"{path}: {category!r} repeats a phrasing")
        named = [p for p in phrases if re.search(rf"\b{re.escape(category.lower())}\b", p.lower())]
        if named:
            raise DataError(f"{path}: {category!r}: {named[0]!r} names the category; a keyword filter could read it")
        out[category] = tuple(phrases)
    return out


def heldout_phrasings(path: str | Path = PHRASINGS_FILE) -> dict[str, tuple[str, ...]]:
    """Category -> its held-out phrasings (validated: at least :data:`MIN_PHRASINGS` each, no
    repeats, none naming its category)."""
    return dict(_load(str(path)))
