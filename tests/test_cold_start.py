import numpy as np
import pytest

from instructrec_peft.config import DataArguments
from instructrec_peft.data.split import leave_one_out
from instructrec_peft.evaluation.baselines import Popularity, full_ranking_ranks
from instructrec_peft.evaluation.cold_start import ContentScorer, cold_start_split
from instructrec_peft.inference.retrieval import ContentRetriever
from instructrec_peft.models.workspace import load_log


@pytest.fixture(scope="module")
def cold(tiny_assets):
    log = load_log(DataArguments(dataset=tiny_assets["data"]))
    split, cold_items = cold_start_split(log, share=0.3, seed=0)
    return log, split, cold_items


def test_cold_items_never_appear_in_training_and_test_targets_stay(cold):
    log, split, cold_items = cold
    base = leave_one_out(log)
    assert cold_items and cold_items <= {base.target(u, "test") for u in base.evaluated}
    for user in split.users:
        assert not cold_items & set(split.train_sequence(user)), user
    for user in split.evaluated:
        assert split.target(user, "valid") not in cold_items
        assert split.target(user, "test") == base.target(user, "test")
    with pytest.raises(ValueError, match=r"share must be in \(0, 1\]"):
        cold_start_split(log, share=0)


def test_popularity_cannot_rank_cold_items_but_the_content_retriever_can(cold):
    log, split, cold_items = cold
    users = [u for u in split.evaluated if split.target(u, "test") in cold_items]
    assert users
    items = list(log.catalog.texts)
    popularity = Popularity.fit(split, items)
    ranks = full_ranking_ranks(popularity, split, users=users)
    counts = popularity.score_users(users)
    for user, rank, row in zip(users, ranks, counts):
        seen = set(split.history(user, "test"))
        warm = sum(1 for item, c in zip(items, row) if c > 0 and item not in seen)
        assert rank > warm  # a zero count ranks below every counted item, ties against it
    rng = np.random.default_rng(0)
    retriever = ContentRetriever(items, rng.normal(size=(len(items), 8)).astype(np.float32))
    retriever.vectors /= np.linalg.norm(retriever.vectors, axis=1, keepdims=True)
    content = full_ranking_ranks(ContentScorer(retriever, split), split, users=users)
    for user, rank in zip(users, content):
        scores = retriever.scores(split.history(user, "test"))
        index = items.index(split.target(user, "test"))
        others = [i for i, item in enumerate(items) if item not in set(split.history(user, "test")) and i != index]
        assert rank == 1 + sum(scores[i] >= scores[index] for i in others)


def test_the_content_retriever_is_a_first_stage_for_lm_reranking(cold, tiny_assets):
    from transformers import AutoModelForCausalLM

    from instructrec_peft.config import ModelArguments
    from instructrec_peft.evaluation.protocols import ProtocolData, rerank_ranks
    from instructrec_peft.instructions.tokenization import PromptEncoder
    from instructrec_peft.models.loading import load_tokenizer
    from instructrec_peft.models.workspace import eval_rows

    log, split, _ = cold
    items = list(log.catalog.texts)
    vectors = np.random.default_rng(1).normal(size=(len(items), 8)).astype(np.float32)
    retriever = ContentRetriever(items, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    scorer = ContentScorer(retriever, split)
    encoder = PromptEncoder(load_tokenizer(ModelArguments(model_name_or_path=tiny_assets["gpt2"])))
    rows = eval_rows(split, log, DataArguments(dataset=tiny_assets["data"]), encoder, seed=0, stage="test", users=6)
    data = ProtocolData("loo-random-10", log, split, rows)
    retrieved, reranked = rerank_ranks(AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"]), encoder, data,
                                       scorer, depth=20, progress=False)
    for row, rank in zip(rows, retrieved):
        top = scorer.top_k(split, row["user"], 20)
        assert not set(top) & set(split.history(row["user"], "test"))
        assert rank == (top.index(row["target"]) + 1 if row["target"] in top else np.inf)
    assert (np.isfinite(reranked) == np.isfinite(retrieved)).all()


def test_compare_cold_start_scores_each_system_on_the_cold_and_warm_users(cold, tiny_assets):
    from instructrec_peft.config import ModelArguments
    from instructrec_peft.evaluation.cold_start import compare_cold_start
    from instructrec_peft.evaluation.metrics.formulas import ranking_metrics
    from instructrec_peft.models.loading import load_base_model, load_tokenizer

    log, split, cold_items = cold
    model_args = ModelArguments(model_name_or_path=tiny_assets["gpt2"])
    result = compare_cold_start(model_args, DataArguments(dataset=tiny_assets["data"]), share=0.3, seed=0,
                                bpr_epochs=2)
    cold_users = [u for u in split.evaluated if split.target(u, "test") in cold_items]
    assert result["cold_items"] == len(cold_items)
    assert [(g, r["users"]) for g, r in result["groups"].items()] == [
        ("cold", len(cold_users)), ("warm", len(split.evaluated) - len(cold_users))]
    cold_systems = result["groups"]["cold"]["systems"]
    assert list(cold_systems) == ["popularity", "BPR-MF", "LM item embeddings (base)"]
    items = list(log.catalog.texts)
    popularity = full_ranking_ranks(Popularity.fit(split, items), split, users=cold_users)
    assert cold_systems["popularity"] == ranking_metrics(popularity, (1, 5, 10, 20))
    retriever = ContentRetriever.build(load_base_model(model_args), load_tokenizer(model_args), log.catalog)
    content = full_ranking_ranks(ContentScorer(retriever, split), split, users=cold_users)
    assert cold_systems["LM item embeddings (base)"] == ranking_metrics(content, (1, 5, 10, 20))


def test_the_warm_dataset_leaves_the_cold_items_out_and_reads_back_the_same(cold, tmp_path):
    from benchmarks.cold_items import write_warm_dataset

    log, _, cold_items = cold
    folder = write_warm_dataset(log, cold_items, tmp_path / "warm")
    warm = load_log(DataArguments(dataset=str(folder)))
    kept = log.interactions[~log.interactions["item_id"].isin(cold_items)].reset_index(drop=True)
    assert len(warm.interactions) == len(kept) and not set(warm.interactions["item_id"]) & cold_items
    assert warm.interactions[["user_id", "item_id", "timestamp"]].equals(kept[["user_id", "item_id", "timestamp"]])
    assert sorted(warm.catalog.texts) == sorted(set(log.catalog.texts) - cold_items)
    assert all(warm.catalog.text(i) == log.catalog.text(i) and warm.catalog.categories(i) == log.catalog.categories(i)
               for i in warm.catalog.texts)


def test_the_cold_section_tunes_without_the_cold_items_then_adds_them(tiny_assets, tmp_path):
    from training_helpers import yaml_config

    from benchmarks.cold_items import run_cold
    from instructrec_peft.instructions.item_tokens import ItemTokens
    from instructrec_peft.instructions.manifest import Manifest

    config = tmp_path / "items.yaml"
    config.write_text(yaml_config(tiny_assets, tmp_path / "unused", item_tokens=True, item_token_init="text",
                                  max_history_items=5, templates=["p1-i0-matching-5"],
                                  eval_template="p1-i0-matching-5", answer_separator="", chat_template=False))
    adapter = tmp_path / "cold"
    out = run_cold([str(config)], adapter, seed=0)
    log = load_log(DataArguments(dataset=tiny_assets["data"]))
    _, cold_items = cold_start_split(log, share=0.2, seed=0)
    # Held out before tuning: the adapter's map, saved by the tuning run, has no token for a cold item.
    tuned = ItemTokens.from_dict(Manifest.load(adapter).item_tokens)
    assert out["cold items"] == len(cold_items) and not set(tuned.items) & cold_items
    assert len(tuned) == len(log.catalog) - len(cold_items)
    users = out["users"]["cold"]
    assert users and all(len(r) == len(users) for r in out["cold"].values())
    assert set(out["cold"]) == {"no intention", "I2 intention", "I1 intention"}
    # Every rank is among the items the user has not touched (cold and warm together).
    assert all(1 <= r <= len(log.catalog) for ranks in out["cold"].values() for r in ranks)
    assert len(out["warm"]["with the new rows"]) == len(out["users"]["warm"])
    # Masking the new rows can only move a warm target up.
    assert all(a >= b for a, b in zip(out["warm"]["with the new rows"], out["warm"]["without them"]))
