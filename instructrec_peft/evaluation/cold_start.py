"""Cold-start evaluation: test items that never appear in training.

:func:`cold_start_split` makes a share of the test target items *cold*: every interaction with
them is removed except the test targets themselves, so no train sequence and no validation
target contains them, while each user's test target stays the same. Collaborative baselines
have nothing to go on for those items (popularity counts them zero, BPR never trained their
vectors); a content retriever reads their text. :class:`ContentScorer` lets the retriever be
scored with :func:`baselines.full_ranking_ranks` like any baseline, and retrieve the first stage
of :func:`protocols.rerank_ranks` before an LM reorders it.

>>> split, cold = cold_start_split(log, share=0.2, seed=0)                          # doctest: +SKIP
>>> users = [u for u in split.evaluated if split.target(u, "test") in cold]          # doctest: +SKIP
>>> full_ranking_ranks(ContentScorer(retriever, split), split, users=users)          # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from ..data.split import LeaveOneOutSplit, leave_one_out
from ..errors import ArgumentError
from .baselines import Baseline

__all__ = ["cold_start_split", "ContentScorer", "compare_cold_start"]


def cold_start_split(log, share: float = 0.2, seed: int = 0, min_interactions: int = 3
                     ) -> tuple[LeaveOneOutSplit, set[str]]:
    """A leave-one-out split where ``share`` of the distinct test target items are cold."""
    if not 0 < share <= 1:
        raise ArgumentError(f"share must be in (0, 1], got {share}")
    base = leave_one_out(log, min_interactions=min_interactions)
    targets = {user: base.target(user, "test") for user in base.evaluated}
    distinct = sorted(set(targets.values()))
    count = max(1, round(share * len(distinct)))
    cold = {str(i) for i in np.random.default_rng(seed).choice(distinct, size=count, replace=False)}
    frame = log.interactions.reset_index(drop=True)
    # The same order leave_one_out uses (user, time, source row): each user's last row is the test target.
    order = frame.assign(_row=np.arange(len(frame))).sort_values(["user_id", "timestamp", "_row"], kind="stable")
    last = order.groupby("user_id", sort=False).cumcount(ascending=False).eq(0)
    is_test_target = np.zeros(len(frame), dtype=bool)
    is_test_target[order["_row"].to_numpy()[last.to_numpy()]] = True
    is_test_target &= frame["user_id"].isin(targets.keys()).to_numpy()
    keep = ~frame["item_id"].isin(cold).to_numpy() | is_test_target
    return leave_one_out(frame[keep], min_interactions=min_interactions), cold


class ContentScorer(Baseline):
    """A :class:`inference.retrieval.ContentRetriever` seen as a baseline: a score for every item,
    so full ranking, candidate scoring and ``top_k`` (the first stage of ``protocols.rerank_ranks``)
    work as for the other baselines."""

    def __init__(self, retriever, split: LeaveOneOutSplit):
        self.retriever, self.split = retriever, split
        self.items, self.index = retriever.items, retriever.index

    def score_all(self, user: str, stage: str = "test") -> np.ndarray:
        return self.retriever.scores(self.split.history(user, stage))


def compare_cold_start(model_args, data_args, adapter: str | None = None, *, share: float = 0.2, seed: int = 42,
                       k_values=(1, 5, 10, 20), bpr_epochs: int = 30) -> dict:
    """Full ranking on a :func:`cold_start_split` of the log of ``data_args``: popularity, BPR and
    the LM item embeddings of the base model (and of ``adapter``), for the users whose test
    item is cold and, for reference, the others.

    Returns ``{"cold_items": n, "groups": {"cold"|"warm": {"users": n, "systems": {name: metrics}}}}``.
    """
    from dataclasses import replace

    from ..inference.retrieval import ContentRetriever
    from ..models.loading import load_adapter, load_base_model, load_tokenizer
    from ..models.workspace import load_log
    from .baselines import BPR, Popularity, full_ranking_ranks
    from .metrics.formulas import ranking_metrics

    log = load_log(data_args)
    split, cold = cold_start_split(log, share=share, seed=seed, min_interactions=data_args.min_interactions)
    items = list(log.catalog.texts)
    cold_users = [u for u in split.evaluated if split.target(u, "test") in cold]
    groups = {"cold": cold_users, "warm": [u for u in split.evaluated if u not in set(cold_users)]}
    tokenizer = load_tokenizer(model_args)  # with a pad token
    # Embeddings are read in full precision: quantisation would only add noise to a similarity.
    full = replace(model_args, quantization="none")
    systems = {"popularity": Popularity.fit(split, items),
               "BPR-MF": BPR.fit(split, items, epochs=bpr_epochs, seed=seed),
               "LM item embeddings (base)": ContentScorer(
                   ContentRetriever.build(load_base_model(full), tokenizer, log.catalog), split)}
    if adapter:
        tuned = load_adapter(adapter, model_args=full)
        retriever = ContentRetriever.build(tuned, tokenizer, log.catalog)
        systems["LM item embeddings (tuned)"] = ContentScorer(retriever, split)
    return {"cold_items": len(cold), "groups": {
        group: {"users": len(users), "systems": {name: ranking_metrics(full_ranking_ranks(system, split, users=users),
                                                                        k_values) for name, system in systems.items()}}
        for group, users in groups.items()}}
