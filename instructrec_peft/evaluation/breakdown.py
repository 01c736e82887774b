"""Per-template and per-aspect evaluation: which instructions carry the signal.

Every template is evaluated on the same test users and the same candidates (the rows of a
``loo`` protocol: target + negatives), each in its own task form:

* matching: the candidates' titles scored by likelihood after the prompt -> ranking metrics;
* reranking: the candidates listed in the prompt, scored by their label's log-probability
  (index scoring) or their title's likelihood -> ranking metrics;
* pointwise: one prompt per candidate ("... will the user enjoy {item}?"), scored by
  ``log P(Yes) - log P(No)``; answering Yes when that is positive gives accuracy, precision,
  recall and F1 of the Yes/No answer, the scores give AUC and, ranked per user, ranking metrics;
* pairwise: the target against each negative, in a random order; accuracy of choosing the target.

Rows a template cannot be rendered for (an I1/I2 template for a target without categories, a P2
template for a history that supports no statement) are skipped and counted.

>>> results = evaluate_templates(model, encoder, split, catalog, rows, ["p1-i0-matching-1"])  # doctest: +SKIP
>>> group_results(results, "preference")                                                     # doctest: +SKIP
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..errors import ArgumentError, TemplateError
from ..inference.candidates import score_ranking
from ..inference.scoring import score_candidates
from ..instructions.examples import aspect_values, fits
from ..instructions.templates import Template, get_template
from ..instructions.vocabulary import get_vocabulary
from .metrics.formulas import auc, ranking_metrics, target_ranks

__all__ = ["TemplateResult", "evaluate_templates", "classification_metrics", "pooled_metrics", "group_results",
           "GROUPS"]

GROUPS = ("template", "preference", "intention", "task")


@dataclass
class TemplateResult:
    template: Template
    users: int = 0
    skipped: int = 0
    scores: list[list[float]] = field(default_factory=list)  # per user, per candidate (ranking forms)
    targets: list[int] = field(default_factory=list)  # index of the target in each user's candidates
    pairwise_correct: list[bool] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        return pooled_metrics([self])


def pooled_metrics(results: Sequence[TemplateResult]) -> dict[str, float]:
    """Metrics over the pooled evaluations of ``results``: ranking metrics over every (template,
    user) ranking, classification metrics over the pointwise answers, accuracy over the pairs."""
    out: dict[str, float] = {}
    ranked = [r for r in results if r.scores]
    if ranked:
        out.update(ranking_metrics(target_ranks([s for r in ranked for s in r.scores],
                                                [t for r in ranked for t in r.targets])))
    pointwise = [r for r in ranked if r.template.task == "pointwise"]
    if pointwise:
        scores = [s for r in pointwise for row in r.scores for s in row]
        labels = [int(i == t) for r in pointwise for row, t in zip(r.scores, r.targets) for i in range(len(row))]
        out.update(classification_metrics(scores, labels))
    pairs = [c for r in results for c in r.pairwise_correct]
    if pairs:
        out["pairwise accuracy"] = float(np.mean(pairs))
    return out


def classification_metrics(scores: Sequence[float], labels: Sequence[int]) -> dict[str, float]:
    """Accuracy, precision, recall, F1 of answering Yes when ``score > 0``, and AUC of the scores."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    predicted = scores > 0
    true_positive = int(np.sum(predicted & (labels == 1)))
    precision = true_positive / int(predicted.sum()) if predicted.any() else 0.0
    recall = true_positive / int((labels == 1).sum()) if (labels == 1).any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": float(np.mean(predicted == (labels == 1))), "precision": precision, "recall": recall,
            "f1": f1, "auc": auc(scores, labels)}


def evaluate_templates(model, encoder, split, catalog, rows, templates: Sequence[str], *, vocabulary: str = "movie",
                       seed: int = 0, max_prompt_tokens: int | None = None, max_history_items: int | None = 10,
                       liked: float = 4.0, disliked: float = 2.0, progress: bool = True) -> dict[str, TemplateResult]:
    """Evaluate each template on ``rows`` (evaluation rows: user, target, candidates, stage)."""
    from tqdm.auto import tqdm

    words = get_vocabulary(vocabulary)
    results = {}
    for name in templates:
        template = get_template(name)
        result = TemplateResult(template)
        for index, row in enumerate(tqdm(rows, desc=name, disable=not progress)):
            # Per row and template: the same intentions and pair orders whatever else is evaluated.
            rng = np.random.default_rng([seed, index])
            history = split.history(row["user"], row["stage"])
            ratings = split.ratings[row["user"]][: len(history)] if split.ratings is not None else None
            intentions, preference = aspect_values(catalog, history, ratings, row["target"], words, rng, liked,
                                                   disliked)
            if not fits(template, intentions, preference, history):
                result.skipped += 1
                continue
            values = {"intention": intentions.get(template.intention, ""), "preference": preference or ""}
            context = {"vocabulary": words, "history": [catalog.text(i) for i in history],
                       "count_tokens": encoder.count_tokens, "max_prompt_tokens": max_prompt_tokens,
                       "max_history_items": max_history_items, **values}
            try:
                _score_row(result, model, encoder, catalog, row, context, rng)
            except TemplateError:
                result.skipped += 1
                continue
            result.users += 1
        results[name] = result
    return results


def _score_row(result: TemplateResult, model, encoder, catalog, row, context: dict, rng) -> None:
    template, candidates, target = result.template, list(row["candidates"]), row["target"]
    texts = [catalog.text(i) for i in candidates]
    if template.task == "pairwise":
        for negative in (i for i in candidates if i != target):
            pair = [target, negative] if rng.random() < 0.5 else [negative, target]
            pair_texts = [catalog.text(i) for i in pair]
            prompt = template.render(item_a=pair_texts[0], item_b=pair_texts[1], choice="", **context).prompt
            scores = score_candidates(model, encoder.prompt_ids([prompt])[0], encoder.completion_ids(pair_texts))
            result.pairwise_correct.append(bool(scores[pair.index(target)] > scores[1 - pair.index(target)]))
        return
    if template.task == "pointwise":
        yes_no = encoder.completion_ids(["Yes", "No"])
        scores = []
        for text in texts:
            prompt = template.render(item=text, answer="", **context).prompt
            yes, no = score_candidates(model, encoder.prompt_ids([prompt])[0], yes_no, normalize=False).tolist()
            scores.append(yes - no)
    else:  # matching and reranking: the scoring path of the trainer and the Recommender
        if template.task == "reranking":
            prompt = template.render(candidates=texts, target="", label="", **context).prompt
        else:
            prompt = template.render(target="", **context).prompt
        scores = score_ranking(model, encoder, template, prompt, texts).tolist()
    result.scores.append(scores)
    result.targets.append(candidates.index(target))


def group_results(results: dict[str, TemplateResult], by: str = "template") -> dict[str, dict[str, float]]:
    """Metrics per template, or pooled per aspect level ("P1", "I2", "matching", ...) by
    :func:`pooled_metrics`: each user's scores stay with the template that produced them."""
    if by not in GROUPS:
        raise ArgumentError(f"unknown grouping {by!r}; expected one of {GROUPS}")
    if by == "template":
        return {name: r.metrics for name, r in results.items() if r.users}
    members = defaultdict(list)
    for result in results.values():
        level = getattr(result.template, by)
        members[level].append(result)
    pooled = {level: pooled_metrics(group) for level, group in sorted(members.items())}
    return {level: metrics for level, metrics in pooled.items() if metrics}
