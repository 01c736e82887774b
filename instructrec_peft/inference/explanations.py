"""Explanations of an item-token adapter's ranking that state what raised each item's score.

An item's explanation is measured, not generated: the history items whose removal lowers its
score most (one forward pass per history item, each scoring the whole catalogue, so the top 10
cost as much as the top 1), the categories it shares with them, and what the stated request
added (its score with the request minus without) with the request's categories it has.

    Because you watched Alien (1979) (+1.84) and Aliens (1986) (+0.97), Sci-Fi like it.
    Your request raised it by +2.31 (it is Sci-Fi).

``recipes/bench_following.py --sections explanations`` checks that they are faithful: removing the
items an explanation names lowers the score more than removing as many random history items.

>>> explain_items(rec, ["1", "2", "3"], ["50"], intention="a Sci-Fi movie")[0].text(rec.label)   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..errors import ArgumentError

__all__ = ["Explanation", "explain_items"]


@dataclass
class Explanation:
    """Why ``item`` scored ``score``: ``because`` lists history items with the score each one's
    removal costs it (largest first, positive only); ``shared``: categories it shares with them;
    ``request_gain``: its score with the request minus without (None: no request); ``matched``:
    the request's named categories the item has."""

    item: str
    score: float
    because: list[tuple[str, float]] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    request_gain: float | None = None
    matched: list[str] = field(default_factory=list)

    def text(self, label: Callable[[str], str] = str) -> str:
        parts = []
        if self.because:
            named = " and ".join(f"{label(i)} ({gain:+.2f})" for i, gain in self.because)
            parts.append(f"Because you watched {named}" + (f", {', '.join(self.shared)} like it." if self.shared
                                                           else "."))
        else:
            parts.append("No single item of the history raises it: it ranks high for the history as a whole.")
        if self.request_gain is not None:
            matched = f" (it is {', '.join(self.matched)})" if self.matched else ""
            verb = "raised" if self.request_gain >= 0 else "lowered"
            parts.append(f"Your request {verb} it by {self.request_gain:+.2f}{matched}.")
        return " ".join(parts)


def explain_items(rec, history: Sequence[str], items: Sequence[str], intention: str | None = None,
                  preference: str | None = None, top: int = 2) -> list[Explanation]:
    """Explanations of ``items`` (ids or texts) ranked for ``history`` by an item-token
    :class:`~instructrec_peft.inference.recommender.Recommender`: ``1 + len(shown history)``
    forward passes (one more with a request), whatever the number of items."""
    if rec.item_tokens is None:
        raise ArgumentError("measured explanations need an item-token adapter; a text-only adapter generates its "
                            "reasons (Recommender.explain)")
    history = rec.items(history)[-rec.manifest.max_history_items:]  # what the prompt shows
    if not history:
        raise ArgumentError("the history is empty: nothing to explain from")
    items = rec.items(items)
    asked = {"intention": intention, "preference": preference}
    requests = [{"history": history, **asked}] + [{"history": history[:n] + history[n + 1:], **asked}
                                                  for n in range(len(history))]
    if intention or preference:
        requests.append({"history": history})
    scores = rec.item_score_matrix(requests)
    tokens = rec.item_tokens
    named = set()
    if intention or preference:
        from ..instructions.requests import named_categories
        from ..instructions.vocabulary import get_vocabulary

        vocabulary = get_vocabulary(rec.manifest.vocabulary)
        for text in (intention, preference):
            named |= {n.lower() for n in named_categories(text or "", vocabulary.noun, vocabulary.nouns)}
    out = []
    for item in items:
        column = tokens.position(item)
        base = float(scores[0, column])
        drops = base - scores[1:1 + len(history), column]
        order = [n for n in np.argsort(-drops, kind="stable")[:top] if drops[n] > 0]
        because = [(history[n], float(drops[n])) for n in order]
        mine = tokens.categories_of(item)
        shared = [c for c in mine if any(c in tokens.categories_of(i) for i, _ in because)]
        gain = base - float(scores[-1, column]) if (intention or preference) else None
        matched = [c for c in mine if c.lower() in named]
        out.append(Explanation(item, base, because, shared, gain, matched))
    return out
