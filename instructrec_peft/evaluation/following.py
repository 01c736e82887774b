"""Instruction-following probes of an item-token adapter: does a stated request steer the ranking?

Each probe builds one request per test user, scores the whole catalogue once per request
(``Recommender.item_score_matrix``) and measures what the request changed. The requests are fixed
by the split and a seed before any model is scored; none is a training example (train histories
hold requests about train items only, and the held-out phrasings are never trained on).

* :func:`intention_requests`: the test target's categories as InstructRec states them: I2 all of
  them ("a Comedy, Romance movie"), I1 one of them as a mood ("something funny"), and the same
  category in a held-out phrasing ("a few laughs", ``paraphrases.json``);
* :func:`control_requests`: a category the user has watched least (often never), "a Western movie";
  ranked top 10 judged by the share in that category and by how much of it is just the category's
  10 most popular items;
* :func:`exclusion_requests`: for users whose unsteered top 10 holds a category, "not <category>"
  (an I1 slot) or "I dislike <category> movies" (a P2 statement); judged by the share left.

>>> requests = intention_requests(split, catalog, users, seed=42)      # doctest: +SKIP
>>> scores = recommender.item_score_matrix([r.ask("I2") for r in requests])   # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..errors import DataError
from ..instructions.requests import MOODS, specific
from .category_filter import category_matches, filter_first
from .paraphrases import heldout_phrasings

__all__ = ["IntentionRequest", "intention_requests", "control_requests", "exclusion_requests", "top_k_untouched",
           "category_share", "popular_in", "loo_full_ranks", "full_ranks", "keyword_filtered"]


@dataclass
class IntentionRequest:
    """One test user's history, target and the wordings of the target's intention."""

    user: str
    history: list[str]
    target: str
    categories: list[str]  # the target's (I2 states them all)
    one: str  # the category I1 and the paraphrase state
    wordings: dict[str, str] = field(default_factory=dict)  # "I2" | "I1" | "paraphrase" -> text

    def ask(self, level: str | None) -> dict:
        """``Recommender.item_score_matrix`` arguments: the history with the ``level`` wording (None: no intention)."""
        return {"history": self.history, "intention": self.wordings[level] if level else None}


def intention_requests(split, catalog, users: Sequence[str], noun: str = "movie", seed: int = 42,
                       stage: str = "test") -> list[IntentionRequest]:
    """Per user (whose target has categories): I2, I1 and a held-out paraphrase of the target's intention."""
    rng = np.random.default_rng([seed, 23])
    phrasings = heldout_phrasings()
    out = []
    for user in users:
        target = split.target(user, stage)
        cats = [c for c in catalog.categories(target) if c.lower() != "unknown"]
        if not cats:
            continue
        one = cats[int(rng.integers(len(cats)))]
        paraphrases = phrasings.get(one)
        if not paraphrases:
            raise DataError(f"no held-out phrasing for category {one!r}; paraphrases.json covers {sorted(phrasings)}")
        out.append(IntentionRequest(user, split.history(user, stage), target, cats, one, {
            "I2": specific(cats, noun),
            "I1": MOODS.get(one.lower(), f"something in the style of {one}"),
            "paraphrase": paraphrases[int(rng.integers(len(paraphrases)))]}))
    return out


def _watched(split, user: str, catalog, stage: str) -> Counter:
    return Counter(c for item in split.history(user, stage) for c in catalog.categories(item))


def control_requests(split, catalog, users: Sequence[str], min_items: int = 20, noun: str = "movie", seed: int = 42,
                     stage: str = "test") -> list[dict]:
    """Per user, the category (of at least ``min_items`` catalogue items) they watched least, ties
    drawn at random: ``{"user", "history", "category", "intention"}``."""
    rng = np.random.default_rng([seed, 31])
    sizes = Counter(c for item in catalog.texts for c in catalog.categories(item))
    pool = sorted(c for c, n in sizes.items() if n >= min_items and c.lower() != "unknown")
    out = []
    for user in users:
        watched = _watched(split, user, catalog, stage)
        least = min(watched[c] for c in pool)
        rare = [c for c in pool if watched[c] == least]
        category = rare[int(rng.integers(len(rare)))]
        out.append({"user": user, "history": split.history(user, stage), "category": category,
                    "watched": least, "intention": specific([category], noun)})
    return out


def top_k_untouched(scores: np.ndarray, items: Sequence[str], history: Sequence[str], k: int = 10) -> list[str]:
    """The ``k`` best items by ``scores`` (over ``items``) that are not in ``history``."""
    masked = np.asarray(scores, dtype=np.float64).copy()
    index = {item: n for n, item in enumerate(items)}
    masked[[index[i] for i in history if i in index]] = -np.inf
    order = np.argsort(-masked, kind="stable")[:k]
    return [items[n] for n in order]


def category_share(catalog, top: Sequence[str], category: str) -> float:
    """Share of ``top`` in ``category``."""
    return sum(category in catalog.categories(i) for i in top) / len(top)


def popular_in(split, catalog, category: str, history: Sequence[str], k: int = 10) -> list[str]:
    """The ``k`` items of ``category`` with the most train interactions that are not in ``history``."""
    counts = Counter(i for user in split.users for i in split.train_sequence(user))
    seen = set(history)
    ranked = sorted((i for i in catalog.texts if category in catalog.categories(i) and i not in seen),
                    key=lambda i: (-counts[i], i))
    return ranked[:k]


def exclusion_requests(catalog, tops: dict[str, list[str]], histories: dict[str, list[str]],
                       nouns: str = "movies") -> list[dict]:
    """For each user whose ``tops`` list holds a categorised item: exclude the category most
    frequent in it (ties by name): ``{"user", "history", "category", "not", "dislike"}``."""
    out = []
    for user, top in tops.items():
        counts = Counter(c for i in top for c in catalog.categories(i) if c.lower() != "unknown")
        if not counts:
            continue
        category = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        out.append({"user": user, "history": histories[user], "category": category,
                    "not": f"not {category}", "dislike": f"I dislike {category} {nouns}."})
    return out


def loo_full_ranks(scores: np.ndarray, items: Sequence[str], rows, split, stage: str = "test"
                   ) -> tuple[list[int], list[int]]:
    """Each row's target rank among its ``candidates`` (loo-random-10) and among every item the
    user has not touched (full), from ``(len(rows), len(items))`` scores; ties count against it."""
    index = {item: n for n, item in enumerate(items)}
    loo = []
    for row, s in zip(rows, scores):
        s = np.asarray(s, dtype=np.float64)
        others = [index[c] for c in row["candidates"] if c != row["target"]]
        loo.append(1 + int(np.sum(s[others] >= s[index[row["target"]]])))
    return loo, full_ranks(scores, items, [(row["user"], row["target"]) for row in rows], split, stage)


def full_ranks(scores: np.ndarray, items: Sequence[str], targets: Sequence[tuple[str, str]], split,
               stage: str = "test") -> list[int]:
    """Each (user, target)'s rank among every item the user has not touched, from
    ``(len(targets), len(items))`` scores; ties count against the target.

    >>> from types import SimpleNamespace
    >>> split = SimpleNamespace(history=lambda user, stage: ["a"])   # the user watched "a"
    >>> full_ranks(np.array([[9.0, 1.0, 3.0, 3.0]]), ["a", "b", "c", "d"], [("u", "c")], split)  # "d" ties "c"
    [2]
    """
    index = {item: n for n, item in enumerate(items)}
    out = []
    for (user, target), s in zip(targets, scores):
        s = np.asarray(s, dtype=np.float64)
        mask = np.ones(len(items), dtype=bool)
        mask[[index[i] for i in split.history(user, stage) if i in index]] = False
        mask[index[target]] = False
        out.append(1 + int(np.sum(s[mask] >= s[index[target]])))
    return out


def keyword_filtered(scores: np.ndarray, catalog, items: Sequence[str], stated: Sequence[Sequence[str]],
                     mode: str) -> np.ndarray:
    """A baseline's ``scores`` (one row per request) with the items matching each row's ``stated``
    categories ranked first (``category_filter``): what a keyword match on the request reaches."""
    return np.stack([filter_first(s, category_matches(catalog, items, cats, mode)) for s, cats in zip(scores, stated)])
