import numpy as np
import pytest
from transformers import AutoModelForCausalLM

from instructrec_peft import DataError, leave_one_out
from instructrec_peft.config import DataArguments, ModelArguments
from instructrec_peft.evaluation.baselines import BPR, Baseline, SASRec, fit_baseline
from instructrec_peft.evaluation.protocols import protocol_rows, rerank_listed_ranks
from instructrec_peft.inference.scoring import index_scores
from instructrec_peft.instructions.examples import ExampleConfig, build_examples
from instructrec_peft.instructions.negatives import RandomNegatives, RetrieverNegatives
from instructrec_peft.instructions.tokenization import PromptEncoder
from instructrec_peft.models.loading import load_tokenizer
from instructrec_peft.training.data import prepare_data

ORDER = ["3", "12", "6", "11", "7", "10", "1", "2", "4", "5", "8", "9"]  # the fixed retriever's ranking, best first


class FixedRetriever(Baseline):
    """Scores items in a fixed order, whatever the history; records the histories it was asked about."""

    def __init__(self):
        self.items = [str(i) for i in range(1, 13)]
        self.index = {item: n for n, item in enumerate(self.items)}
        self.asked = []

    def score_history(self, user, history):
        self.asked.append((user, list(history)))
        scores = np.zeros(len(self.items))
        for rank, item in enumerate(ORDER):
            scores[self.index[item]] = len(ORDER) - rank
        return scores


@pytest.fixture
def split(toy_log):
    return leave_one_out(toy_log)


def test_retriever_negatives_are_its_best_untouched_items_in_order():
    negatives = RetrieverNegatives(FixedRetriever())
    assert negatives("u", ["1"], touched={"3", "6", "1"}, n=4) == ["12", "11", "7", "10"]
    with pytest.raises(DataError, match="user 'u' touched 10 of 12 items: fewer than 3 negatives"):
        negatives("u", [], touched=set(ORDER[:10]), n=3)


def test_random_negatives_need_enough_untouched_items():
    sample = RandomNegatives([str(i) for i in range(5)], np.random.default_rng(0))
    assert sorted(sample("u", [], {"0", "1"}, 3)) == ["2", "3", "4"]
    with pytest.raises(DataError, match="fewer than 4 negatives"):
        sample("u", [], {"0", "1"}, 4)


def test_reranking_examples_list_the_retrievers_candidates(split, toy_catalog):
    retriever = FixedRetriever()
    config = ExampleConfig(tasks={"reranking": 1.0}, num_candidates=4, examples_per_user=None, seed=0)
    rows = build_examples(split, toy_catalog, "train", config, retriever=retriever)
    # Every example asked about its own history, in order.
    assert retriever.asked == [(row["user"], row["history"]) for row in rows]
    expected = {"u1": {"12", "6", "11"}, "u2": {"3", "12", "11"}, "u4": {"3", "12", "6"}}
    for row in rows:
        assert set(row["candidates"]) == expected[row["user"]] | {row["target"]}
        assert row["candidates"]["ABCD".index(row["label"])] == row["target"]
    # At the test stage the candidates are the target and the retriever's best untouched items.
    test = build_examples(split, toy_catalog, "test", config, retriever=FixedRetriever())
    assert {row["user"]: set(row["candidates"]) - {row["target"]} for row in test} == {
        "u1": {"12", "6", "11"}, "u2": {"3", "12", "11"}, "u3": {"3", "6", "7"}}


def test_fit_baseline_uses_the_shared_settings(split):
    items = [str(i) for i in range(1, 13)]
    np.testing.assert_array_equal(fit_baseline("bpr", split, items, seed=3, epochs=2).item_factors,
                                  BPR.fit(split, items, epochs=2, seed=3).item_factors)
    # Train counts: u1 trains on 1, 2, 3; u2 on 6, 7; u3 on 11; u4 (short) on 1, 2.
    assert fit_baseline("popularity", split, items).counts.tolist() == [2, 2, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0]
    with pytest.raises(ValueError, match="unknown baseline 'knn'; expected one of"):
        fit_baseline("knn", split)


def test_sasrec_scores_a_history_as_it_scores_the_user(split):
    model = SASRec.fit(split, dim=16, max_len=4, layers=1, heads=1, epochs=1, eval_every=1, seed=0)
    np.testing.assert_allclose(model.score_history("u1", split.history("u1", "test")),
                               model.score_users(["u1"], "test")[0], rtol=1e-6)
    assert model.score_sequences([[], ["1", "2"]]).shape == (2, len(model.items))


def test_negative_sources_are_validated():
    with pytest.raises(ValueError, match="DataArguments.negatives: 'hard' is not one of"):
        DataArguments(negatives="hard")


def test_prepare_data_draws_negatives_from_the_named_baseline(tiny_assets):
    args = DataArguments(dataset=tiny_assets["data"], task_mix="reranking=1", templates=["p1-i0-reranking-3"],
                         eval_template="p1-i0-reranking-3", num_candidates=5, negatives="bpr", examples_per_user=1)
    encoder = PromptEncoder(load_tokenizer(ModelArguments(model_name_or_path=tiny_assets["gpt2"])))
    prepared = prepare_data(args, encoder, seed=5)
    bpr = fit_baseline("bpr", prepared.split, list(prepared.log.catalog.texts), seed=5)
    for rows in (prepared.train, prepared.valid):
        for row in rows:
            touched = prepared.split.touched(row["user"])
            scores = bpr.score_all(row["user"]).copy()
            scores[[bpr.index[i] for i in touched]] = -np.inf
            best = {bpr.items[i] for i in np.argsort(-scores, kind="stable")[:4]}
            assert set(row["candidates"]) == best | {row["target"]}


def test_listed_rerank_ranks_the_retrievers_top_k_by_label(tiny_assets):
    args = DataArguments(dataset=tiny_assets["data"], eval_template="p1-i0-reranking-3")
    encoder = PromptEncoder(load_tokenizer(ModelArguments(model_name_or_path=tiny_assets["gpt2"])))
    data = protocol_rows("loo-random-10", args, encoder, seed=0, users=0)
    model = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"])
    retriever = fit_baseline("popularity", data.split, list(data.log.catalog.texts))
    retrieved, reranked = rerank_listed_ranks(model, encoder, data, args, retriever, depth=5, seed=0, progress=False)
    tops = [retriever.top_k(data.split, user, 5) for user in data.rows["user"]]
    expected = [top.index(t) + 1 if t in top else np.inf for top, t in zip(tops, data.rows["target"])]
    assert retrieved.tolist() == expected
    assert 0 < np.isfinite(retrieved).sum() < len(retrieved)  # the fixture has both hits and misses
    assert np.array_equal(np.isfinite(reranked), np.isfinite(retrieved))
    # A hit's rank is its label's among the five labels' first-token scores in its own prompt.
    listed = build_examples(data.split, data.log.catalog, "test",
                            ExampleConfig(tasks={"reranking": 1.0}, templates=["p1-i0-reranking-3"], num_candidates=5,
                                          seed=0), users=list(data.rows["user"]), retriever=retriever,
                            count_tokens=encoder.count_tokens, max_prompt_tokens=args.max_prompt_tokens)
    for n, row in enumerate(listed):
        if np.isfinite(retrieved[n]):
            scores = index_scores(model, encoder.prompt_ids([row["prompt"]])[0], encoder.label_token_ids(5)).numpy()
            target = row["candidates"].index(row["target"])
            assert reranked[n] == 1 + np.sum(np.delete(scores, target) >= scores[target])
    with pytest.raises(ValueError, match="needs a reranking evaluation template; 'p1-i0-matching-1' is matching"):
        rerank_listed_ranks(model, encoder, data, DataArguments(dataset=tiny_assets["data"]), retriever)
