"""Ranking evaluation of instruction examples: score each row's candidates, rank the target.

A row (from :func:`~instructrec_peft.examples.build_examples`, valid or test stage) carries a
prompt, its template, the candidate item ids and the target. Each candidate is scored as a
completion of the prompt (its text, or its list label for label-answering templates) with
:func:`~instructrec_peft.scoring.score_candidates`; the metrics follow from the target's rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from .metrics.formulas import ranking_metrics, target_ranks
from .scoring import score_candidates
from .templates import candidate_labels, get_template

__all__ = ["RankingResult", "completions_for", "rank_rows", "evaluate_ranking", "format_table"]


@dataclass
class RankingResult:
    metrics: dict[str, float]
    ranks: np.ndarray
    scores: list[list[float]]
    users: list[str]


def completions_for(row: dict, catalog) -> list[str]:
    """The completion each candidate is scored as, in the row's candidate order."""
    template = get_template(row["template"])
    if template.response_field == "label":
        return candidate_labels(len(row["candidates"]))
    if template.response_field != "target":
        raise ValueError(f"template {template.name!r} answers with {{{template.response_field}}}; ranking needs a "
                         "matching or reranking template")
    return [catalog.text(item) for item in row["candidates"]]


def rank_rows(model, encoder, rows, catalog, *, method: str | None = None, normalize: bool = True,
              progress: bool = True, desc: str = "ranking") -> tuple[list[list[float]], list[int]]:
    """Scores of every row's candidates, and the index of each row's target."""
    all_scores, targets = [], []
    for row in tqdm(rows, desc=desc, disable=not progress, total=len(rows)):
        if not row["candidates"]:
            raise ValueError(f"user {row['user']!r}: the row has no candidates to rank (train-stage matching rows "
                             "carry none; evaluate valid or test rows)")
        prompt_ids = encoder.prompt_ids([row["prompt"]])[0]
        completion_ids = encoder.completion_ids(completions_for(row, catalog))
        scores = score_candidates(model, prompt_ids, completion_ids, method=method, normalize=normalize)
        all_scores.append(scores.tolist())
        targets.append(row["candidates"].index(row["target"]))
    return all_scores, targets


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
        lines.append(f"| {name} | {count} | " + " | ".join(f"{metrics[c]:.3f}" if c in metrics else "" for c in columns)
                     + "".join(f" | {cis[c][0]:.3f}-{cis[c][1]:.3f}" if c in cis else " | " for c in ci_columns) + " |")
    return "\n".join(lines)
