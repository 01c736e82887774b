"""The one way a text LM scores ranking candidates, whoever asks: the trainer's evaluation, the
``Recommender``, the protocols, the per-template breakdown and the speed table all call this.

* A template that answers with a list label (reranking, ``{label}``): the prompt lists the
  candidates labelled A, B, ...; a candidate's score is the log-probability of its label's first
  token as the answer (one forward pass; LlamaRec's verbalizer).
* Any other matching or reranking template: the log-likelihood of the candidate's text (plus EOS)
  after the prompt, averaged over its tokens when ``normalize``
  (:func:`~instructrec_peft.inference.scoring.score_candidates`, by ``method``).

Tokenising (:func:`candidate_inputs`) and scoring (:func:`score_inputs`) are separate steps so
that a timing can leave the tokenizer out; :func:`score_ranking` does both; :func:`rank_rows`
ranks the candidates of evaluation rows. A NaN score (a
broken model, an overflow) is a :class:`~instructrec_peft.errors.ScoringError`, never a rank.

>>> scores = score_ranking(model, encoder, get_template("p1-i0-reranking-3"), prompt, titles)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from tqdm.auto import tqdm

from ..errors import ArgumentError, ScoringError
from ..instructions.templates import Template, get_template
from .scoring import index_scores, score_candidates

__all__ = ["CandidateInputs", "candidate_inputs", "score_inputs", "score_ranking", "rank_rows"]


@dataclass(frozen=True)
class CandidateInputs:
    """A prompt's token ids and, per candidate, its label's first token (``labels``) or its
    completion's ids (otherwise)."""

    prompt_ids: list[int]
    candidate_ids: list
    labels: bool


def candidate_inputs(encoder, template: Template, prompt: str, texts: Sequence[str]) -> CandidateInputs:
    """Tokenise ``prompt`` (already rendered, listing the candidates if ``template`` does) and the
    ``texts`` of the candidates it ranks, in order, the way ``template`` scores them."""
    if not texts:
        raise ArgumentError("no candidates to score")
    if template.response_field == "label":
        return CandidateInputs(encoder.prompt_ids([prompt])[0], encoder.label_token_ids(len(texts)), True)
    if template.response_field != "target":
        raise ArgumentError(f"template {template.name!r} answers with {{{template.response_field}}}; ranking needs "
                            "a matching or reranking template")
    return CandidateInputs(encoder.prompt_ids([prompt])[0], encoder.completion_ids(list(texts)), False)


def score_inputs(model, inputs: CandidateInputs, *, method: str | None = None, normalize: bool = True) -> torch.Tensor:
    """Float32 scores, one per candidate (higher is better)."""
    if inputs.labels:
        scores = index_scores(model, inputs.prompt_ids, inputs.candidate_ids)
    else:
        scores = score_candidates(model, inputs.prompt_ids, inputs.candidate_ids, method=method, normalize=normalize)
    if torch.isnan(scores).any():
        raise ScoringError(f"the model gave NaN scores to {int(torch.isnan(scores).sum())} of {len(scores)} "
                           "candidates (a broken adapter or a numeric overflow); no ranking can be read from them")
    return scores


def score_ranking(model, encoder, template: Template, prompt: str, texts: Sequence[str], *,
                  method: str | None = None, normalize: bool = True) -> torch.Tensor:
    """:func:`candidate_inputs` then :func:`score_inputs`."""
    return score_inputs(model, candidate_inputs(encoder, template, prompt, texts), method=method,
                        normalize=normalize)


def rank_rows(model, encoder, rows, catalog, *, method: str | None = None, normalize: bool = True,
              progress: bool = True, desc: str = "ranking") -> tuple[list[list[float]], list[int]]:
    """Scores of every row's candidates, and the index of each row's target."""
    all_scores, targets = [], []
    for row in tqdm(rows, desc=desc, disable=not progress, total=len(rows)):
        if not row["candidates"]:
            raise ArgumentError(f"user {row['user']!r}: the row has no candidates to rank (train-stage matching rows "
                                "carry none; evaluate valid or test rows)")
        texts = [catalog.text(item) for item in row["candidates"]]
        try:
            scores = score_ranking(model, encoder, get_template(row["template"]), row["prompt"], texts, method=method,
                                   normalize=normalize)
        except ScoringError as err:
            raise ScoringError(f"user {row['user']!r}: {err}") from None
        all_scores.append(scores.tolist())
        targets.append(row["candidates"].index(row["target"]))
    return all_scores, targets
