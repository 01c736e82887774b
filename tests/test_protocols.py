import numpy as np
import pytest
from transformers import AutoModelForCausalLM

from instructrec_peft.config import DataArguments, ModelArguments
from instructrec_peft.evaluation.metrics.formulas import ranking_metrics
from instructrec_peft.evaluation.protocols import protocol_rows, rerank_ranks
from instructrec_peft.inference.candidates import rank_rows
from instructrec_peft.instructions.tokenization import PromptEncoder
from instructrec_peft.models.loading import load_tokenizer


class FixedRetriever:
    """Proposes, for each user, the target at a chosen position (or not at all) among other items."""

    def __init__(self, data, positions):
        self.data, self.positions = data, positions

    def top_k(self, split, user, k, stage="test"):
        target = split.target(user, stage)
        seen = set(split.history(user, stage)) | {target}
        others = [i for i in self.data.log.catalog.texts if i not in seen][: k - 1]
        position = self.positions[user]
        return others[:k] if position is None else others[:position] + [target] + others[position:]


@pytest.fixture
def rerank_setup(tiny_assets):
    encoder = PromptEncoder(load_tokenizer(ModelArguments(model_name_or_path=tiny_assets["gpt2"])))
    data = protocol_rows("loo-random-10", DataArguments(dataset=tiny_assets["data"]), encoder, seed=0, users=4)
    model = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"])
    return encoder, data, model


def test_rerank_counts_misses_and_reorders_only_the_retrieved(rerank_setup):
    encoder, data, model = rerank_setup
    users = [row["user"] for row in data.rows]
    positions = dict(zip(users, [0, None, 4, 2]))
    retriever = FixedRetriever(data, positions)
    retrieved, reranked = rerank_ranks(model, encoder, data, retriever, depth=5, progress=False)
    assert retrieved.tolist() == [1.0, np.inf, 5.0, 3.0]
    assert np.isinf(reranked[1]) and np.isfinite(reranked[[0, 2, 3]]).all()
    # The LM's ranks are those of plain ranking over each user's five retrieved items.
    hits = [{**row, "candidates": retriever.top_k(data.split, row["user"], 5)} for row in data.rows]
    hits = [hits[i] for i in (0, 2, 3)]
    scores, targets = rank_rows(model, encoder, hits, data.log.catalog, progress=False)
    expected = [1 + sum(s >= row[t] for j, s in enumerate(row) if j != t) for row, t in zip(scores, targets)]
    assert reranked[[0, 2, 3]].tolist() == expected
    # A miss scores zero on every metric: HR@5 of the retriever is 3 hits of 4 users.
    metrics = ranking_metrics(retrieved, (1, 5))
    assert metrics["hr@1"] == 0.25 and metrics["hr@5"] == 0.75
    assert metrics["mrr"] == pytest.approx((1 + 1 / 5 + 1 / 3) / 4)


def test_rerank_refuses_a_prompt_that_lists_candidates(tiny_assets):
    encoder = PromptEncoder(load_tokenizer(ModelArguments(model_name_or_path=tiny_assets["gpt2"])))
    args = DataArguments(dataset=tiny_assets["data"], eval_template="p1-i0-reranking-1")
    data = protocol_rows("loo-random-10", args, encoder, seed=0, users=2)
    with pytest.raises(ValueError, match="'p1-i0-reranking-1' lists them"):
        rerank_ranks(None, encoder, data, None)


def test_scoring_throughput_times_every_method_on_the_same_rows(rerank_setup):
    from benchmarks.speed import scoring_throughput

    encoder, data, model = rerank_setup
    speeds = scoring_throughput(model, encoder, data.rows, data.log.catalog,
                                methods=("naive", "batched", "shared_prefix", "index"))
    assert list(speeds) == ["naive", "batched", "shared_prefix", "index"]
    assert all(v > 0 for v in speeds.values())
    with pytest.raises(ValueError, match="unknown scoring method 'fast'"):
        scoring_throughput(model, encoder, data.rows, data.log.catalog, methods=("fast",))
    with pytest.raises(ValueError, match="no rows to time"):
        scoring_throughput(model, encoder, [], data.log.catalog)


def test_a_second_protocol_reuses_the_first_ones_log_and_split(rerank_setup, tiny_assets):
    encoder, data, _ = rerank_setup
    args = DataArguments(dataset=tiny_assets["data"])
    wide = protocol_rows("loo-random-20", args, encoder, seed=0, users=4, like=data)
    assert wide.log is data.log and wide.split is data.split
    fresh = protocol_rows("loo-random-20", args, encoder, seed=0, users=4)
    assert wide.rows.to_dict() == fresh.rows.to_dict()
    assert [len(c) for c in wide.rows["candidates"]] == [20, 20, 20, 20]
