"""Items found as people type them.

A catalogue spells "Silence of the Lambs, The (1991)"; a person types "the silence of the lambs",
"Silence of the Lambs (1991)" or "silence of the lambs, the". :class:`ItemLookup` finds the item
by its exact text first, then by a key that ignores case, spacing, punctuation, where a leading
article sits ("The X" and "X, The", in the languages MovieLens titles use) and, when only one item
has that name, the year. A name that matches several items is refused with their ids; one that
matches none is refused with the closest names in the catalogue ("did you mean ...").

>>> lookup = ItemLookup([("593", "Silence of the Lambs, The (1991)"), ("1", "Toy Story (1995)"),
...                      ("3114", "Toy Story 2 (1999)")])
>>> lookup.find("the silence of the lambs"), lookup.find("TOY STORY (1995)")
('593', '1')
>>> lookup.suggest("Toy Stor")   # what the error of find("Toy Stor") ends with
"; did you mean 'Toy Story (1995)', 'Toy Story 2 (1999)'?"
"""

from __future__ import annotations

import difflib
import re
from typing import Iterable

from ..errors import ArgumentError
from .plain_text import plain_text

__all__ = ["ItemLookup", "name_key"]

# Articles MovieLens moves to the end of a title ("Usual Suspects, The"; "Cité des enfants perdus, La").
ARTICLES = ("the", "a", "an", "la", "le", "les", "l'", "il", "el", "los", "las", "das", "der", "die", "den", "det")
_YEAR = re.compile(r"\s*\((\d{4})\)\s*$")
_MOVED = re.compile(r"^(?P<name>.+?),\s*(?P<article>" + "|".join(re.escape(a) for a in ARTICLES) + r")$")


def name_key(text: str) -> tuple[str, str | None]:
    """``(name, year)``: the name lowercased, its article in front, punctuation and spacing
    folded; the year of a trailing "(1991)", if any."""
    text = plain_text(str(text)).strip()
    year = None
    match = _YEAR.search(text)
    if match:
        year, text = match.group(1), text[:match.start()]
    text = " ".join(text.casefold().split())
    moved = _MOVED.match(text)
    if moved:
        article = moved.group("article")
        text = article + ("" if article.endswith("'") else " ") + moved.group("name")
    return " ".join(re.sub(r"[^\w']+", " ", text).split()), year


class ItemLookup:
    """Item ids by their texts; :meth:`find` resolves what a person typed (see the module doc)."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()):
        self.exact: dict[str, list[str]] = {}
        self.keyed: dict[tuple[str, str | None], list[str]] = {}
        self.names: dict[str, list[str]] = {}  # the name without its year
        self.texts: dict[str, str] = {}  # one text per item, for "did you mean"
        self.add(pairs)

    def add(self, pairs: Iterable[tuple[str, str]]) -> None:
        for item, text in pairs:
            key = name_key(text)
            self.texts.setdefault(item, text)
            for table, k in ((self.exact, text), (self.exact, plain_text(text)), (self.keyed, key),
                             (self.names, key[0])):
                found = table.setdefault(k, [])
                if item not in found:
                    found.append(item)

    def candidates(self, typed: str) -> list[str]:
        """Every item ``typed`` may mean: its exact text's, else its key's, else (no year typed)
        its name's in any year."""
        found = self.exact.get(typed) or self.exact.get(plain_text(typed))
        if found:
            return found
        name, year = name_key(typed)
        if year is not None:
            return self.keyed.get((name, year), [])
        return self.names.get(name, [])

    def find(self, typed: str, known: str = "the catalogue") -> str:
        """The one item ``typed`` names, or an error listing the items it may mean or the closest
        names (``known``: how the error calls the items looked in)."""
        found = self.candidates(typed)
        if len(found) == 1:
            return found[0]
        ids = ", ".join(map(repr, found[:10])) + (", ..." if len(found) > 10 else "")
        if found and (typed in self.exact or plain_text(typed) in self.exact):
            raise ArgumentError(f"{typed!r} is the text of {len(found)} items (ids {ids}); give the item id instead")
        if found:
            texts = ", ".join(dict.fromkeys(repr(self.texts[i]) for i in found[:10]))
            raise ArgumentError(f"{typed!r} may be any of {len(found)} items ({texts}; ids {ids}); give the year or "
                                "the item id")
        raise ArgumentError(f"unknown item {typed!r}: neither an item id nor an item text of {known}"
                            + self.suggest(typed))

    def suggest(self, typed: str, n: int = 5) -> str:
        """``"; did you mean 'A', 'B'?"`` for the catalogue texts whose names are closest to
        ``typed``'s (empty if none is close)."""
        name = name_key(typed)[0]
        close = difflib.get_close_matches(name, list(self.names), n=n, cutoff=0.6) if name else []
        if not close and name:
            # A prefix of a longer title ("Toy Stor") is far from it by edit ratio, yet what was meant.
            close = [k for k in self.names if k.startswith(name)][:n]
        texts = list(dict.fromkeys(self.texts[i] for k in close for i in self.names[k]))[:n]
        return "; did you mean " + ", ".join(map(repr, texts)) + "?" if texts else ""
