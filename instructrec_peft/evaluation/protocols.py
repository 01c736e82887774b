"""Evaluation protocols run on the test split (``docs/protocols.md`` defines them; the README and
the reports use their names).

``loo-random-10`` (and ``loo-random-20``): per evaluated user, the test target among 9 (19)
items the user never touched, sampled with a fixed seed; the LM scores each candidate with the evaluation template, the
baselines score the same candidates.

``rerank-top20`` (:func:`rerank_ranks`): a retriever (SASRec) proposes its top 20 unseen items,
the LM reorders them; a target outside the 20 is a miss (rank ``inf``, zero on every metric), so
both orderings are judged over all users. A reranker whose prompt lists the candidates (a
reranking template, LlamaRec-style) gets them in its prompt, shuffled and labelled
(:func:`rerank_listed_ranks`). ``full`` (baselines only) is :func:`baselines.full_ranking_ranks`.

>>> data = protocol_rows("loo-random-10", data_args, encoder, seed=42, users=100)   # doctest: +SKIP
>>> retrieved, reranked = rerank_ranks(model, encoder, data, sasrec, depth=20)      # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from tqdm.auto import tqdm

from ..config import DataArguments
from ..data.interactions import InteractionLog
from ..data.split import LeaveOneOutSplit
from ..errors import ArgumentError, DataError
from ..instructions.templates import get_template
from ..models.workspace import Workspace, eval_rows
from .baselines import Popularity
from .metrics.formulas import ranking_metrics, target_ranks
from .ranking import RankingResult, evaluate_ranking, rank_rows

__all__ = ["PROTOCOLS", "ProtocolData", "protocol_rows", "run_lm", "run_popularity", "rerank_ranks", "ItemLMRanks",
           "run_item_lm", "rerank_item_ranks",
           "rerank_listed_ranks"]

PROTOCOLS = {"loo-random-10": 10, "loo-random-20": 20}  # name -> candidates per user (the target among them)


@dataclass
class ProtocolData:
    protocol: str
    log: InteractionLog
    split: LeaveOneOutSplit
    rows: object  # datasets.Dataset of test ranking rows


def protocol_rows(protocol: str, data_args: DataArguments, encoder, seed: int = 42, users: int = 0,
                  stage: str = "test", *, like: ProtocolData | None = None) -> ProtocolData:
    """Test rows of ``protocol`` for the first ``users`` evaluated users (0: all); ``like``: rows of
    another protocol on the same data, whose log and split are reused instead of read again."""
    if protocol not in PROTOCOLS:
        raise ArgumentError(f"unknown or not yet supported protocol {protocol!r}; supported: {sorted(PROTOCOLS)}")
    # The rows are text: they fix the users and candidates every system ranks; an item-token
    # model renders its own prompts for them (run_item_lm).
    args = replace(data_args, num_candidates=PROTOCOLS[protocol], item_tokens=False, negatives="random")
    ws = Workspace(args, seed, encoder=encoder, log=like.log if like else None, split=like.split if like else None)
    return ProtocolData(protocol, ws.log, ws.split, ws.rows(stage, users))


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
            raise ArgumentError(f"rerank needs an evaluation template whose prompt lists no candidates; {name!r} "
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


def rerank_listed_ranks(model, encoder, data: ProtocolData, data_args: DataArguments, retriever, depth: int = 20, *,
                        seed: int = 42, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``rerank-top20`` for a listwise reranker: each user's prompt (``data_args.eval_template``, a
    reranking template) lists the retriever's top ``depth``, shuffled and labelled, and is scored
    like any row (:func:`inference.candidates.rank_rows`: a label template by each label's first token, in one
    forward pass). Returns the ranks as :func:`rerank_ranks`.
    """
    template = get_template(data_args.eval_template)
    if template.task != "reranking":
        raise ArgumentError(f"a listwise reranker needs a reranking evaluation template; {template.name!r} is "
                            f"{template.task}")
    args = replace(data_args, num_candidates=depth, item_tokens=False)
    users = list(data.rows["user"])
    # The retriever's best untouched items are, at the test stage, its top `depth` but the target.
    rows = eval_rows(data.split, data.log, args, encoder, seed, "test", users, retriever=retriever)
    retrieved, reranked = np.full(len(users), np.inf), np.full(len(users), np.inf)
    for n, row in enumerate(tqdm(rows, desc=f"reranking top {depth}", disable=not progress)):
        top = retriever.top_k(data.split, row["user"], depth)
        if row["target"] not in top:
            continue
        if set(row["candidates"]) != set(top):
            raise DataError(f"user {row['user']!r}: the prompt's candidates are not the retriever's top {depth}")
        retrieved[n] = top.index(row["target"]) + 1
        reranked[n] = target_ranks(*rank_rows(model, encoder, [row], data.log.catalog, progress=False))[0]
    return retrieved, reranked


@dataclass
class ItemLMRanks:
    """Target ranks of an item-token LM: among each row's candidates (``loo``) and among every item
    the user has not touched (``full``), for ``users`` (the protocol rows' users it could prompt)."""

    users: list[str]
    loo: np.ndarray
    full: np.ndarray
    scores: np.ndarray  # (len(users), items) item-token logits


def run_item_lm(model, encoder, data_args: DataArguments, tokens, data: ProtocolData, *, seed: int = 42,
                stage: str = "test", batch_size: int = 16, progress: bool = True) -> ItemLMRanks:
    """Rank ``data.rows``' candidates and the whole catalogue with an item-token model: one forward
    pass per user, prompted with ``data_args.eval_template`` rendered in item tokens.

    The candidates are the protocol rows' own (the baselines' and the text LMs'), so every system
    is scored on the same lists. A user whose prompt cannot be built (an I2 template and a target
    without categories) is left out and absent from ``users``.
    """
    from ..inference.item_scoring import full_ranks, rank_item_rows, score_rows

    users = list(data.rows["user"])
    prompted = eval_rows(data.split, data.log, data_args, encoder, seed, stage, users, item_tokens=tokens)
    scores = score_rows(model, encoder, tokens, prompted, batch_size=batch_size, progress=progress)
    by_user = {row["user"]: n for n, row in enumerate(prompted)}
    rows = [row for row in data.rows if row["user"] in by_user]
    matrix = scores[[by_user[row["user"]] for row in rows]]
    loo = target_ranks(*rank_item_rows(model, encoder, tokens, rows, scores=matrix))
    full = full_ranks(tokens, rows, matrix, data.split, stage, items=list(data.log.catalog.texts))
    return ItemLMRanks([row["user"] for row in rows], loo, full, matrix)


def rerank_item_ranks(ranked: ItemLMRanks, tokens, data: ProtocolData, retriever, depth: int = 20,
                      stage: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """``rerank-top20`` for an item-token model, from the scores it already computed: the ranks of
    each user's target among the retriever's top ``depth`` as the retriever orders them and as the
    model reorders them (``inf`` where the target was not retrieved), for ``ranked.users``."""
    targets = dict(zip(data.rows["user"], data.rows["target"]))
    retrieved, reranked = np.full(len(ranked.users), np.inf), np.full(len(ranked.users), np.inf)
    for n, (user, scores) in enumerate(zip(ranked.users, ranked.scores)):
        top = retriever.top_k(data.split, user, depth, stage)
        if targets[user] in top:
            retrieved[n] = top.index(targets[user]) + 1
            mine = scores[[tokens.position(i) for i in top]]
            reranked[n] = target_ranks([mine], [top.index(targets[user])])[0]
    return retrieved, reranked
