"""Where an example's negative items come from.

* random: uniform among the items the user never touched (the rule of ``loo-random-10``);
* a retriever (a fitted baseline, e.g. SASRec): the items it ranks highest after the example's
  history, other than anything the user touched: hard negatives. A reranker trained on them sees
  the lists it will rerank (a retriever's top k) instead of random items that are easy to tell
  apart, as LlamaRec trains its ranker on its retriever's own candidates.

Both are called as ``negatives(user, history, touched, n)`` and return ``n`` item ids.

>>> negatives = RetrieverNegatives(sasrec)                         # doctest: +SKIP
>>> negatives("196", history, touched=split.touched("196"), n=19)  # SASRec's top 19 untouched  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import DataError

__all__ = ["NEGATIVE_SOURCES", "RandomNegatives", "RetrieverNegatives"]

NEGATIVE_SOURCES = ("random", "bpr", "sasrec")  # random, or a baseline retriever fitted on the train split


def _check_enough(user: str, touched: set[str], items: int, n: int) -> None:
    if items - len(touched) < n:
        raise DataError(f"user {user!r} touched {len(touched)} of {items} items: fewer than {n} negatives are left "
                        "to sample")


class RandomNegatives:
    """Uniform items a user never touched, by rejection (cheap: users touch few of the items)."""

    def __init__(self, items: Sequence[str], rng: np.random.Generator):
        self.items = np.asarray(list(items), dtype=object)
        self.rng = rng

    def __call__(self, user: str, history: Sequence[str], touched: set[str], n: int) -> list[str]:
        _check_enough(user, touched, len(self.items), n)
        chosen: list[str] = []
        taken = set(touched)
        while len(chosen) < n:
            for index in self.rng.integers(len(self.items), size=2 * (n - len(chosen))):
                item = self.items[index]
                if item not in taken:
                    taken.add(item)
                    chosen.append(item)
                    if len(chosen) == n:
                        break
        return chosen


class RetrieverNegatives:
    """A retriever's best items after the history that the user never touched, best first.

    At the last stage every touched item is the history or the target, so with ``n = k - 1`` the
    target plus these negatives are exactly the retriever's top ``k`` whenever it retrieves the
    target: the ``rerank-top20`` candidates for ``k = 20``.
    """

    def __init__(self, retriever):
        self.retriever = retriever  # an evaluation.baselines.Baseline (its ``best``)

    def __call__(self, user: str, history: Sequence[str], touched: set[str], n: int) -> list[str]:
        _check_enough(user, touched, len(self.retriever.items), n)
        return self.retriever.best(user, history, touched, n)
