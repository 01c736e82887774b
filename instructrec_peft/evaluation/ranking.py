"""Ranking evaluation of instruction examples: score each row's candidates, rank the target.

A row (from :func:`~instructrec_peft.instructions.examples.build_examples`, valid or test stage)
carries a prompt, its template, the candidate item ids and the target. The candidates are scored
by :func:`~instructrec_peft.inference.candidates.score_ranking` (the one scoring path of text
LMs: a list label's first token, or the candidate's likelihood); the metrics follow from the
target's rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..inference.candidates import rank_rows
from .metrics.formulas import ranking_metrics, target_ranks

__all__ = ["RankingResult", "evaluate_ranking", "format_table", "ranks_table"]


@dataclass
class RankingResult:
    metrics: dict[str, float]
    ranks: np.ndarray
    scores: list[list[float]]
    users: list[str]


def evaluate_ranking(model, encoder, rows, catalog, *, k_values: Sequence[int] = (1, 3, 5, 10),
                     method: str | None = None, normalize: bool = True, progress: bool = True) -> RankingResult:
    scores, targets = rank_rows(model, encoder, rows, catalog, method=method, normalize=normalize, progress=progress)
    ranks = target_ranks(scores, targets)
    return RankingResult(ranking_metrics(ranks, k_values), ranks, scores, [r["user"] for r in rows])


def format_table(results: dict[str, dict[str, float]], users: dict[str, int] | None = None,
                 columns: Sequence[str] = ("hr@1", "hr@3", "hr@5", "hr@10", "ndcg@3", "ndcg@5", "ndcg@10", "mrr"),
                 intervals: dict[str, dict[str, tuple[float, float]]] | None = None) -> str:
    """A Markdown table: one row per system, one column per metric; ``intervals`` (system ->
    metric -> (low, high)) adds a 95% CI column per metric it names."""
    ci_columns = list(dict.fromkeys(m for per in (intervals or {}).values() for m in per))
    header = "| system | users | " + " | ".join(c.upper() for c in columns) + "".join(
        f" | {c.upper()} 95% CI" for c in ci_columns) + " |"
    lines = [header, "|" + "---|" * (len(columns) + len(ci_columns) + 2)]
    for name, metrics in results.items():
        count = (users or {}).get(name, "")
        cis = (intervals or {}).get(name, {})
        values = " | ".join(f"{metrics[c]:.3f}" if c in metrics else "" for c in columns)
        bounds = "".join(f" | {cis[c][0]:.3f}-{cis[c][1]:.3f}" if c in cis else " | " for c in ci_columns)
        lines.append(f"| {name} | {count} | {values}{bounds} |")
    return "\n".join(lines)


def ranks_table(ranks: dict[str, Sequence[float]], columns: Sequence[str], ci_metrics: Sequence[str],
                k_values: Sequence[int] = (1, 3, 5, 10)) -> tuple[dict[str, dict[str, float]], str]:
    """Metrics of each system's per-user target ranks and their Markdown table, with a 95%
    bootstrap interval column for each of ``ci_metrics``."""
    from .metrics.bootstrap import summarize

    metrics, intervals = {}, {}
    for name, system_ranks in ranks.items():
        metrics[name], intervals[name] = summarize(system_ranks, k_values, tuple(ci_metrics))
    users = {name: len(r) for name, r in ranks.items()}
    return metrics, format_table(metrics, users, columns, intervals)
