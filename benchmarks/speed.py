"""Candidates scored per second by each scoring method, on the same rows (the benchmark's speed table).

Likelihood methods (``naive``, ``batched``, ``shared_prefix``) score each row's candidates by
their text after the row's prompt; ``index`` renders a listing template (candidates labelled
A, B, ...) and reads one next-token distribution. Every method sees the same users and
candidates, so the ratios compare the methods and nothing else.

>>> scoring_throughput(model, encoder, rows, catalog, methods=("naive", "shared_prefix"))  # doctest: +SKIP
{'naive': 1.9, 'shared_prefix': 11.2}
"""

from __future__ import annotations

import time
from typing import Sequence

from instructrec_peft.errors import ArgumentError
from instructrec_peft.inference.candidates import candidate_inputs, score_inputs
from instructrec_peft.inference.scoring import SCORING_METHODS
from instructrec_peft.instructions.templates import get_template

__all__ = ["scoring_throughput"]


def scoring_throughput(model, encoder, rows, catalog, methods: Sequence[str] = ("naive", "shared_prefix"), *,
                       index_template: str = "p1-i0-reranking-3", vocabulary: str = "movie") -> dict[str, float]:
    """Candidates per second of each method over ``rows`` (evaluation rows with candidates)."""
    rows = list(rows)
    if not rows:
        raise ArgumentError("no rows to time")
    for method in methods:
        if method not in (*SCORING_METHODS, "index"):
            raise ArgumentError(f"unknown scoring method {method!r}; expected one of {(*SCORING_METHODS, 'index')}")
    # Tokenise up front (the scorers' own first step): the table times the model, not the tokenizer.
    rows_inputs = [candidate_inputs(encoder, get_template(row["template"]), row["prompt"],
                                    [catalog.text(i) for i in row["candidates"]]) for row in rows]
    candidates = sum(len(row["candidates"]) for row in rows)
    speeds = {}
    for method in methods:
        if method == "index":
            listed = _index_inputs(rows, catalog, encoder, get_template(index_template), vocabulary)
            start = time.perf_counter()
            for inputs in listed:
                score_inputs(model, inputs)
        else:
            start = time.perf_counter()
            for inputs in rows_inputs:
                score_inputs(model, inputs, method=method)
        speeds[method] = candidates / (time.perf_counter() - start)
    return speeds


def _index_inputs(rows, catalog, encoder, template, vocabulary):
    """Per row: the inputs of a listing prompt (candidates labelled A, B, ...) for ``template``."""
    inputs = []
    for row in rows:
        texts = [catalog.text(i) for i in row["candidates"]]
        history = [catalog.text(i) for i in row["history"]]
        prompt = template.render(vocabulary=vocabulary, history=history, candidates=texts, target="", label="").prompt
        inputs.append(candidate_inputs(encoder, template, prompt, texts))
    return inputs
