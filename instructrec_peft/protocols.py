"""Evaluation protocols (DESIGN names) run on the test split.

``loo-random-10``: per evaluated user, the test target among 9 items the user never touched,
sampled with a fixed seed; the LM scores each candidate with the evaluation template, the
baselines score the same candidates.

``rerank-top20`` (:func:`rerank_ranks`): a retriever (SASRec) proposes its top 20 unseen items,
the LM reorders them; a target outside the 20 is a miss (rank ``inf``, zero on every metric), so
both orderings are judged over all users. ``full`` (baselines only) is
:func:`baselines.full_ranking_ranks`.

>>> data = protocol_rows("loo-random-10", data_args, encoder, seed=42, users=100)   # doctest: +SKIP
>>> retrieved, reranked = rerank_ranks(model, encoder, data, sasrec, depth=20)      # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .baselines import Popularity
from .config import DataArguments
from .data import eval_rows, load_log
from .evaluation import RankingResult, evaluate_ranking, rank_rows
from .interactions import InteractionLog
from .metrics.formulas import ranking_metrics, target_ranks
from .split import LeaveOneOutSplit, leave_one_out
from .templates import get_template

__all__ = ["PROTOCOLS", "ProtocolData", "protocol_rows", "run_lm", "run_popularity", "rerank_ranks"]

PROTOCOLS = {"loo-random-10": 10}


@dataclass
class ProtocolData:
    protocol: str
    log: InteractionLog
    split: LeaveOneOutSplit
    rows: object  # datasets.Dataset of test ranking rows


def protocol_rows(protocol: str, data_args: DataArguments, encoder, seed: int = 42, users: int = 0,
                  stage: str = "test") -> ProtocolData:
    """Test rows of ``protocol`` for the first ``users`` evaluated users (0: all)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown or not yet supported protocol {protocol!r}; supported: {sorted(PROTOCOLS)}")
    args = replace(data_args, num_candidates=PROTOCOLS[protocol])
    log = load_log(args)
    split = leave_one_out(log, min_interactions=args.min_interactions)
    rows = eval_rows(split, log, args, encoder, seed, stage, users)
    return ProtocolData(protocol, log, split, rows)


def run_lm(model, encoder, data: ProtocolData, k_values=(1, 3, 5, 10), method=None, normalize=True,
           progress=True) -> RankingResult:
    return evaluate_ranking(model, encoder, data.rows, data.log.catalog, k_values=k_values, method=method,
                            normalize=normalize, progress=progress)


def run_popularity(data: ProtocolData, k_values=(1, 3, 5, 10)) -> dict[str, float]:
    scores, targets = Popularity.fit(data.split, items=list(data.log.catalog.texts)).rank_rows(data.rows)
    return ranking_metrics(target_ranks(scores, targets), k_values)


def rerank_ranks(model, encoder, data: ProtocolData, retriever, depth: int = 20, *, method=None, normalize=True,
                 progress=True) -> tuple[np.ndarray, np.ndarray]:
    """Ranks of each row's target among the retriever's top ``depth`` as the retriever orders
    them and as the LM reorders them (float arrays; ``inf`` where the target was not retrieved).

    The rows' prompts are reused, so the evaluation template must not list candidates: a prompt
    naming the random candidates would tell the model about items it is not ranking.
    """
    for name in set(data.rows["template"]):
        if "candidates" in get_template(name).fields:
            raise ValueError(f"rerank needs an evaluation template whose prompt lists no candidates; {name!r} "
                             "lists them (use a matching template)")
    retrieved_ranks = np.full(len(data.rows), np.inf)
    hits, positions = [], []
    for position, row in enumerate(data.rows):
        top = retriever.top_k(data.split, row["user"], depth)
        if row["target"] in top:
            retrieved_ranks[position] = top.index(row["target"]) + 1
            hits.append({**row, "candidates": top})
            positions.append(position)
    reranked = np.full(len(data.rows), np.inf)
    if hits:
        scores, targets = rank_rows(model, encoder, hits, data.log.catalog, method=method, normalize=normalize,
                                    progress=progress, desc=f"reranking top {depth}")
        reranked[positions] = target_ranks(scores, targets)
    return retrieved_ranks, reranked
