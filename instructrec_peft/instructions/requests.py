"""Requests inside a history: what teaches an item-token model to read instructions.

An item-token sequence example labels every history position with the next item, so one
forward pass gives ~50 training signals. A request placed right before an item makes that
position answer it too: ``<|item_3|><|item_8|> [something scary]<|item_5|>`` asks the position
after ``]`` for item 5 *given* the request. With ``request_rate`` r, a fraction r of the history
positions carry one, so a window of 50 items trains ~50 r positions to read an instruction
while the rest keep learning the plain history (a user who states nothing).

Every request is true of the item that follows it, built from that item's categories:

* ``I2``: all of them, as the I2 templates state them: "a Comedy, Romance movie";
* ``I1``: one of them, vaguely: a mood ("something funny") or "a Comedy movie";
* ``like``: a statement of taste (P2): "I like Comedy movies";
* ``exclude``: a category the item does *not* have, preferring one the user watched lately (the
  case where the request changes the answer): "not Horror", alone or after an I1 or ``like``.

The inline form is the one the ``p1-i1-matching-3`` / ``p1-i2-matching-4`` / ``p2-*`` sequence
templates end with, so the last position of an evaluation prompt reads a request exactly as
the trained positions did.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> request_for(["Comedy", "Romance"], ["Horror", "Comedy"], "I2", "movie", "movies", rng)
'a Comedy, Romance movie'
>>> request_for(["Comedy", "Romance"], ["Horror", "Comedy"], "exclude", "movie", "movies", rng)
'something romantic, not Horror'
>>> inline("<|item_5|>", "something scary")
' [something scary]<|item_5|>'
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import ConfigError

__all__ = ["REQUEST_KINDS", "request_for", "inline", "with_requests", "MOODS"]

REQUEST_KINDS = ("I1", "I2", "like", "exclude")

# I1 phrases: a mood instead of the category name. Unlisted categories get "a {category} {noun}".
MOODS = {
    "action": "something action-packed", "adventure": "an adventure", "animation": "something animated",
    "children's": "something for the kids", "comedy": "something funny", "crime": "a crime story",
    "documentary": "something true to life", "drama": "something moving", "fantasy": "something magical",
    "film-noir": "something dark and stylish", "horror": "something scary", "musical": "something with music",
    "mystery": "a good mystery", "romance": "something romantic", "sci-fi": "something futuristic",
    "thriller": "something suspenseful", "war": "something about war", "western": "something set in the Wild West",
}


def _article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def specific(categories: Sequence[str], noun: str) -> str:
    """The I2 wording: every category, "a Comedy, Romance movie"."""
    return _article(f"{', '.join(categories)} {noun}")


def vague(category: str, noun: str, rng: np.random.Generator) -> str:
    """An I1 wording of one category: its mood, or half the time (and where it has none) its name."""
    mood = MOODS.get(category.lower())
    return mood if mood and rng.random() < 0.5 else _article(f"{category} {noun}")


def _excluded(categories: Sequence[str], recent: Sequence[str], rng: np.random.Generator) -> str | None:
    """A category the item lacks among those the user watched lately (None if every one fits)."""
    pool = list(dict.fromkeys(c for c in recent if c not in set(categories)))
    return pool[int(rng.integers(len(pool)))] if pool else None


def request_for(categories: Sequence[str], recent: Sequence[str], kind: str, noun: str, nouns: str,
                rng: np.random.Generator) -> str | None:
    """A request of ``kind`` that the item with ``categories`` satisfies; ``recent``: the categories
    of the user's latest items (exclusions pick from them). ``None`` when none can be said."""
    if kind not in REQUEST_KINDS:
        raise ConfigError(f"request kind {kind!r} is not one of {REQUEST_KINDS}")
    if not categories:
        return None
    one = categories[int(rng.integers(len(categories)))]
    if kind == "I2":
        return specific(categories, noun)
    if kind == "I1":
        return vague(one, noun, rng)
    if kind == "like":
        return f"I like {one} {nouns}"
    excluded = _excluded(categories, recent, rng)
    if excluded is None:
        return None
    lead = rng.integers(3)
    if lead == 0:
        return f"not {excluded}"
    if lead == 1:
        return f"{vague(one, noun, rng)}, not {excluded}"
    return f"I like {one} {nouns} but not {excluded}"


def inline(shown: str, request: str) -> str:
    """An item as a history shows it, preceded by a request (the sequence templates' form)."""
    return f" [{request}]{shown}"


def with_requests(history: Sequence[str], shown: Sequence[str], catalog, rate: float, kinds: Sequence[str],
                  noun: str, nouns: str, rng: np.random.Generator, recent: int = 5) -> list[str]:
    """``shown`` (the history's items as the prompt shows them) with a request before a fraction
    ``rate`` of them (never the first: no position predicts it). ``recent`` earlier items give the
    categories an exclusion picks from."""
    out = list(shown)
    for position in range(1, len(history)):
        if rng.random() >= rate:
            continue
        earlier = [c for item in history[max(0, position - recent):position] for c in catalog.categories(item)]
        kind = kinds[int(rng.integers(len(kinds)))]
        request = request_for(catalog.categories(history[position]), earlier, kind, noun, nouns, rng)
        if request:
            out[position] = inline(shown[position], request)
    return out
