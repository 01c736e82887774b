"""Domain vocabularies: how templates speak of a catalogue's items.

One template registry serves movies, products, courses and news because templates never name
the domain; they say ``{noun}``, ``{nouns}``, ``{verb}`` and ``{past}``, filled from a
:class:`Vocabulary`. Verbs are used in the simple past ("The user {past} these {nouns}") and
the bare infinitive ("Would the user {verb} {item}?"), so irregular verbs need no participle.

>>> get_vocabulary("course").past
'took'
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ArgumentError

__all__ = ["Vocabulary", "VOCABULARIES", "VOCABULARY_FIELDS", "register_vocabulary", "get_vocabulary"]

VOCABULARY_FIELDS = ("noun", "nouns", "verb", "past")


@dataclass(frozen=True)
class Vocabulary:
    name: str
    noun: str    # "movie"
    nouns: str   # "movies"
    verb: str    # "watch"   (bare infinitive)
    past: str    # "watched" (simple past)

    def __post_init__(self):
        for key in ("name",) + VOCABULARY_FIELDS:
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip() or "{" in value or "}" in value:
                raise ArgumentError(f"vocabulary {self.name!r}: field {key!r} must be a non-empty word without braces")

    def as_values(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in VOCABULARY_FIELDS}


VOCABULARIES: dict[str, Vocabulary] = {}


def register_vocabulary(vocabulary: Vocabulary, *, overwrite: bool = False) -> Vocabulary:
    if vocabulary.name in VOCABULARIES and not overwrite:
        raise ArgumentError(f"vocabulary {vocabulary.name!r} is already registered; pass overwrite=True to replace it")
    VOCABULARIES[vocabulary.name] = vocabulary
    return vocabulary


def get_vocabulary(name: str | Vocabulary) -> Vocabulary:
    if isinstance(name, Vocabulary):
        return name
    try:
        return VOCABULARIES[name]
    except KeyError:
        raise ArgumentError(f"unknown vocabulary {name!r}; registered: {sorted(VOCABULARIES)}") from None


for _v in (
    Vocabulary("movie", "movie", "movies", "watch", "watched"),
    Vocabulary("product", "product", "products", "buy", "bought"),
    Vocabulary("course", "course", "courses", "take", "took"),
    Vocabulary("article", "news article", "news articles", "read", "read"),
    Vocabulary("book", "book", "books", "read", "read"),
    Vocabulary("song", "song", "songs", "listen to", "listened to"),
    Vocabulary("game", "game", "games", "play", "played"),
):
    register_vocabulary(_v)
