"""Evaluation protocols (DESIGN names) run on the test split.

``loo-random-10``: per evaluated user, the test target among 9 items the user never touched,
sampled with a fixed seed; the LM scores each candidate with the evaluation template, the
baselines score the same candidates. (``rerank-top20`` and ``full`` need a trained retriever
and arrive with the SASRec baseline.)

>>> rows = protocol_rows("loo-random-10", data_args, encoder, seed=42, users=100)   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .baselines import Popularity
from .config import DataArguments
from .data import eval_rows, load_log
from .evaluation import RankingResult, evaluate_ranking
from .interactions import InteractionLog
from .metrics.formulas import ranking_metrics, target_ranks
from .split import LeaveOneOutSplit, leave_one_out

__all__ = ["PROTOCOLS", "ProtocolData", "protocol_rows", "run_lm", "run_popularity"]

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
