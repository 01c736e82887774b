"""Per-template and per-aspect metrics equal those computed by hand from the template's scores."""

import numpy as np
import pytest
from transformers import AutoModelForCausalLM

from instructrec_peft.config import DataArguments, ModelArguments
from instructrec_peft.data.split import leave_one_out
from instructrec_peft.evaluation.breakdown import classification_metrics, evaluate_templates, group_results
from instructrec_peft.inference.scoring import score_candidates
from instructrec_peft.instructions.templates import get_template
from instructrec_peft.instructions.tokenization import PromptEncoder
from instructrec_peft.models.loading import load_tokenizer
from instructrec_peft.models.workspace import eval_rows, load_log

TEMPLATES = ["p1-i0-matching-1", "p1-i2-matching-1", "p1-i0-reranking-1", "p1-i0-pointwise-1", "p1-i0-pairwise-1",
             "p2-i0-matching-1"]


@pytest.fixture(scope="module")
def evaluated(tiny_assets):
    encoder = PromptEncoder(load_tokenizer(ModelArguments(model_name_or_path=tiny_assets["gpt2"])))
    args = DataArguments(dataset=tiny_assets["data"], num_candidates=5)
    log = load_log(args)
    split = leave_one_out(log)
    rows = eval_rows(split, log, args, encoder, seed=0, stage="test", users=6)
    model = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"])
    results = evaluate_templates(model, encoder, split, log.catalog, rows, TEMPLATES, seed=0, progress=False)
    return results, model, encoder, split, log.catalog, rows


def hand_ranks(scores, targets):
    return [1 + sum(1 for j, s in enumerate(row) if j != t and s >= row[t]) for row, t in zip(scores, targets)]


def test_matching_scores_are_the_likelihoods_of_the_rendered_prompts(evaluated):
    results, model, encoder, split, catalog, rows = evaluated
    result = results["p1-i0-matching-1"]
    assert result.users == 6 and result.skipped == 0
    row = rows[0]
    prompt = get_template("p1-i0-matching-1").render(
        vocabulary="movie", history=[catalog.text(i) for i in split.history(row["user"], "test")], target="",
        max_history_items=10).prompt
    expected = score_candidates(model, encoder.prompt_ids([prompt])[0],
                                encoder.completion_ids([catalog.text(i) for i in row["candidates"]]))
    assert np.allclose(result.scores[0], expected.tolist(), atol=1e-6)
    assert result.targets[0] == list(row["candidates"]).index(row["target"])


@pytest.mark.parametrize("name", ["p1-i0-matching-1", "p1-i2-matching-1", "p1-i0-reranking-1", "p1-i0-pointwise-1"])
def test_ranking_metrics_per_template_equal_hand_computed(evaluated, name):
    result = evaluated[0][name]
    ranks = np.array(hand_ranks(result.scores, result.targets), dtype=float)
    metrics = group_results(evaluated[0], "template")[name]
    assert metrics["hr@1"] == pytest.approx(np.mean(ranks == 1))
    assert metrics["hr@3"] == pytest.approx(np.mean(ranks <= 3))
    assert metrics["ndcg@3"] == pytest.approx(np.mean([1 / np.log2(r + 1) if r <= 3 else 0 for r in ranks]))
    assert metrics["mrr"] == pytest.approx(np.mean(1 / ranks))


def test_pointwise_answers_are_judged_as_yes_no(evaluated):
    result = evaluated[0]["p1-i0-pointwise-1"]
    flat = [(s, int(i == t)) for row, t in zip(result.scores, result.targets) for i, s in enumerate(row)]
    predicted = [s > 0 for s, _ in flat]
    positives = [label for _, label in flat]
    tp = sum(p and y for p, y in zip(predicted, positives))
    precision = tp / sum(predicted) if any(predicted) else 0.0
    recall = tp / sum(positives)
    pairs = [(a, b) for a, la in flat if la for b, lb in flat if not lb]
    metrics = result.metrics
    assert metrics["accuracy"] == pytest.approx(np.mean([p == bool(y) for p, y in zip(predicted, positives)]))
    assert metrics["precision"] == pytest.approx(precision) and metrics["recall"] == pytest.approx(recall)
    assert metrics["auc"] == pytest.approx(np.mean([1.0 if a > b else 0.5 if a == b else 0.0 for a, b in pairs]))
    assert classification_metrics([1.0, -1.0, 2.0, -3.0], [1, 1, 0, 0]) == {
        "accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5, "auc": 0.5}


def test_pairwise_accuracy_counts_pairs_won(evaluated):
    result = evaluated[0]["p1-i0-pairwise-1"]
    assert len(result.pairwise_correct) == 4 * result.users  # the target against each of 4 negatives
    assert result.metrics == {"pairwise accuracy": pytest.approx(np.mean(result.pairwise_correct))}


def test_aspect_levels_pool_the_rankings_of_their_templates(evaluated):
    results = evaluated[0]
    by_task = group_results(results, "task")
    assert set(by_task) == {"matching", "reranking", "pointwise", "pairwise"}
    matching = [results[n] for n in ("p1-i0-matching-1", "p1-i2-matching-1", "p2-i0-matching-1") if results[n].users]
    ranks = np.array([r for m in matching for r in hand_ranks(m.scores, m.targets)], dtype=float)
    assert by_task["matching"]["hr@1"] == pytest.approx(np.mean(ranks == 1))
    by_intention = group_results(results, "intention")
    assert set(by_intention) == {"I0", "I2"}
    assert by_intention["I2"]["mrr"] == pytest.approx(group_results(results)["p1-i2-matching-1"]["mrr"])
    with pytest.raises(ValueError, match="unknown grouping 'colour'"):
        group_results(results, "colour")


def test_evaluate_recipe_reports_a_breakdown(tiny_assets, tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    from training_helpers import tiny_configs

    from instructrec_peft.training.tuning import run_tuning

    out = tmp_path / "adapter"
    run_tuning(*tiny_configs(tiny_assets, out, max_steps=1))
    recipe = Path(__file__).resolve().parents[1] / "recipes" / "evaluate.py"
    report = tmp_path / "metrics.json"
    run = subprocess.run([sys.executable, str(recipe), "--adapter", str(out), "--users", "3", "--by", "task",
                          "--templates", "p1-i0-matching-1", "p1-i0-pointwise-1", "--output", str(report)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "by task: the same users and candidates" in run.stdout
    saved = json.loads(report.read_text())
    assert saved["by"] == "task" and set(saved["breakdown"]) == {"matching", "pointwise"}
    assert {"hr@1", "auc", "f1"} <= set(saved["breakdown"]["pointwise"])
