"""Requests inside a history: what teaches an item-token model to read instructions.

An item-token sequence example labels every history position with the next item, so one
forward pass gives ~50 training signals. A request placed right before an item makes that
position answer it too: ``<|item_3|><|item_8|> [something scary]<|item_5|>`` asks the position
after ``]`` for item 5 *given* the request. With ``request_rate`` r, a fraction r of the history
positions carry one, so a window of 50 items trains ~50 r positions to read an instruction
while the rest keep learning the plain history (a user who states nothing).

Every request is true of the item that follows it, built from that item's categories:

* ``I2``: all of them, as the I2 templates state them: "a Comedy, Romance movie";
* ``I1``: one of them, vaguely: a mood ("something funny"), another wording ("a hilarious film")
  or "a Comedy movie";
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
'a romantic movie, not Horror'
>>> inline("<|item_5|>", "something scary")
' [something scary]<|item_5|>'
>>> named_categories("I like Comedy and Drama movies but not Horror", "movie", "movies")
['Comedy', 'Drama', 'Horror']
>>> named_categories("something scary, not a musical", "movie", "movies")
[]
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from ..errors import ConfigError

__all__ = ["REQUEST_KINDS", "request_for", "inline", "with_requests", "MOODS", "WORDINGS", "named_categories"]

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


# More ways to ask for a category vaguely, so that training does not tie a category to one phrase
# (the evaluation's I1 wording is the mood above). None of them is, holds or sits inside a held-out
# phrasing of evaluation/paraphrases.json (tests/test_paraphrases.py checks).
WORDINGS = {
    "action": ["an action flick", "fist fights and shootouts", "a high-octane movie", "something with lots of action"],
    "adventure": ["an epic adventure", "a daring journey", "treasure hunters and lost cities", "an exciting quest"],
    "animation": ["an animated film", "something with cartoon characters", "animated characters",
                  "a movie for animation fans"],
    "children's": ["a kids' movie", "something for children", "a family film", "a movie young kids will enjoy"],
    "comedy": ["a comedy", "something to laugh at", "a funny movie", "a hilarious film"],
    "crime": ["a gangster movie", "a heist film", "criminals and cops", "an underworld story"],
    "documentary": ["a documentary", "a real-life story", "a film about real events", "a true account"],
    "drama": ["a drama", "an emotional film", "a serious movie", "a touching story"],
    "fantasy": ["a fantasy film", "magic and dragons", "a magical world", "knights and witches"],
    "film-noir": ["a film noir", "a dark crime classic", "a moody black-and-white crime film", "old-school noir"],
    "horror": ["a horror movie", "something frightening", "a terrifying film", "a spooky film"],
    "musical": ["a musical", "a movie full of songs", "a movie with great songs", "a film with singing"],
    "mystery": ["a mystery", "a detective puzzle", "a mysterious story", "a crime to solve"],
    "romance": ["a romantic movie", "a romance", "something about love", "a tender love affair"],
    "sci-fi": ["a science fiction film", "something set in space", "aliens and robots", "a futuristic story"],
    "thriller": ["a thriller", "a suspense film", "something tense", "a gripping thriller"],
    "war": ["a war movie", "a battle film", "soldiers at war", "a movie about a war"],
    "western": ["a western", "a cowboy movie", "gunfights in the old west", "a frontier story"],
}


def _article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def specific(categories: Sequence[str], noun: str) -> str:
    """The I2 wording: every category, "a Comedy, Romance movie"."""
    return _article(f"{', '.join(categories)} {noun}")


def vague(category: str, noun: str, rng: np.random.Generator) -> str:
    """An I1 wording of one category, drawn from its mood, its other wordings and "a <category> <noun>"."""
    key = category.lower()
    choices = ([MOODS[key]] if key in MOODS else []) + WORDINGS.get(key, []) + [_article(f"{category} {noun}")]
    return choices[int(rng.integers(len(choices)))]


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


def named_categories(text: str, noun: str, nouns: str) -> list[str]:
    """The category names a request states in the trained forms, capitalised as categories are:
    "a Comedy, Romance movie", "not Horror", "I like Westerns movies but not Horror". Free
    wording ("something scary", "a funny movie") names none. A caller checks them against the
    catalogue, so a misspelt or unknown category is an error, not a request the model cannot read."""
    names = []
    for part in re.split(r"[.;]\s*|,\s*(?=not\b)|\s+but\s+", text.strip()):
        part = part.strip()
        listed = re.fullmatch(rf"(?:an?|I (?:like|dislike))\s+(.+?)\s+(?:{re.escape(noun)}|{re.escape(nouns)})",
                              part, flags=re.IGNORECASE)
        excluded = re.fullmatch(r"not\s+(.+)", part, flags=re.IGNORECASE)
        found = re.split(r",|\s+and\s+", listed.group(1)) if listed else [excluded.group(1)] if excluded else []
        names += [n.strip() for n in found if n.strip()[:1].isupper()]
    return names
