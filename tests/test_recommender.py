import pytest
import torch
from transformers import AutoModelForCausalLM

from instructrec_peft.config import ModelArguments
from instructrec_peft.inference.recommender import Recommender
from instructrec_peft.inference.spaces import ItemTrie
from instructrec_peft.instructions.templates import get_template
from instructrec_peft.instructions.tokenization import PromptEncoder
from instructrec_peft.models.loading import load_tokenizer

CATALOG = [f"Film {chr(65 + i)}{i} ({1980 + i})" for i in range(12)]


@pytest.fixture
def recommender(tiny_assets):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_assets["gpt2"])
    model = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"])
    return Recommender.zero_shot(model, tokenizer, catalog=CATALOG)


def test_trie_allows_only_continuations():
    trie = ItemTrie([[1, 2, 0], [1, 3, 0], [4, 0]])
    assert sorted(trie.allowed([])) == [1, 4]
    assert sorted(trie.allowed([1])) == [2, 3]
    assert trie.allowed([1, 2]) == [0]
    assert trie.allowed([5]) == []


@pytest.mark.parametrize("k", [1, 3, 6])
def test_recommend_returns_only_unseen_catalogue_items(recommender, k):
    history = CATALOG[:4]
    picks = [item for item, _ in recommender.recommend(history, k=k)]
    assert len(picks) == k and len(set(picks)) == k
    assert set(picks) <= set(CATALOG[4:])


def test_recommend_refuses_impossible_requests(recommender):
    with pytest.raises(ValueError, match="only 2 catalogue items are not in the history; asked for 3"):
        recommender.recommend(CATALOG[:10], k=3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        recommender.recommend(CATALOG[:2], k=0)


def test_rank_orders_by_the_likelihood_scores(recommender):
    history, candidates = CATALOG[:3], CATALOG[5:9]
    ranked = recommender.rank(history, candidates)
    assert sorted(c for c, _ in ranked) == sorted(candidates)
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)
    direct = dict(zip(candidates, recommender.score(history, candidates)))
    assert all(direct[c] == s for c, s in ranked)
    with pytest.raises(ValueError, match="the candidate list is empty"):
        recommender.rank(history, [])
    with pytest.raises(ValueError, match="the history is empty"):
        recommender.rank([], candidates)


def test_intention_switches_to_an_intention_template(recommender):
    assert recommender._template(None, None).name == "p1-i0-matching-1"
    assert recommender._template("something funny", None).aspects == ("P1", "I1", "matching")
    assert recommender._template(None, "I like Westerns.").aspects == ("P2", "I0", "matching")
    ranked = recommender.rank(CATALOG[:3], CATALOG[5:8], intention="something funny")
    assert len(ranked) == 3


def test_explain_generates_text(recommender):
    text = recommender.explain(CATALOG[:3], CATALOG[4])
    assert isinstance(text, str)
    with pytest.raises(ValueError, match="the history is empty"):
        recommender.explain([], CATALOG[4])


def test_index_scoring_ranks_a_tiny_trained_models_target_first(tiny_assets):
    """Overfit a tiny model on label-answering reranking prompts, then score by label logits."""
    from transformers import AutoTokenizer

    from instructrec_peft.inference.scoring import index_scores
    from instructrec_peft.instructions.templates import get_template

    tokenizer = AutoTokenizer.from_pretrained(tiny_assets["gpt2"])
    model = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"])
    encoder = PromptEncoder(tokenizer)
    template = get_template("p1-i0-reranking-3")
    cases = []
    for n in range(4):
        candidates = CATALOG[4 + n: 8 + n]
        target = n % 4  # each toy prompt has its own answer letter
        rendered = template.render(vocabulary="movie", history=CATALOG[n:n + 2], candidates=candidates,
                                   target=candidates[target], label="ABCD"[target])
        cases.append((rendered.prompt, rendered.completion, target))
    batch = [encoder.encode(prompt, completion) for prompt, completion, _ in cases]
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.eval()  # no dropout: the overfitting is deterministic whatever ran before
    for _ in range(100):
        for feature in batch:
            loss = model(input_ids=torch.tensor([feature["input_ids"]]), labels=torch.tensor([feature["labels"]])).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    labels = [encoder.completion_ids([letter])[0][0] for letter in "ABCD"]
    for prompt, _, target in cases:
        scores = index_scores(model, encoder.prompt_ids([prompt])[0], labels)
        assert int(scores.argmax()) == target


def test_from_pretrained_reproduces_the_trained_model(tiny_assets, tmp_path):
    from training_helpers import tiny_configs

    from instructrec_peft.inference.scoring import score_candidates
    from instructrec_peft.training.tuning import run_tuning

    result = run_tuning(*tiny_configs(tiny_assets, tmp_path / "out"))
    rec = Recommender.from_pretrained(str(tmp_path / "out"), catalog=CATALOG)
    history, candidates = CATALOG[:3], CATALOG[5:9]
    prompt = rec._prompt(rec._template(None, None), history)
    trained = score_candidates(result.trainer.model, rec.encoder.prompt_ids([prompt])[0],
                               rec.encoder.completion_ids(candidates))
    assert torch.allclose(torch.tensor(rec.score(history, candidates)), trained, atol=1e-5)
    assert rec.manifest.eval_template == "p1-i0-matching-1"
    assert {item for item, _ in rec.recommend(history, k=3)} <= set(CATALOG[3:])


def test_a_label_answering_adapter_ranks_by_index_and_recommends_by_matching(tiny_assets):
    from transformers import AutoTokenizer

    from instructrec_peft.inference.scoring import index_scores

    tokenizer = AutoTokenizer.from_pretrained(tiny_assets["gpt2"])
    model = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"])
    rec = Recommender.zero_shot(model, tokenizer, catalog=CATALOG, eval_template="p1-i0-reranking-3")
    history, candidates = CATALOG[:2], CATALOG[4:8]
    prompt = rec._prompt(rec._template(None, None), history, candidates)
    labels = [rec.encoder.completion_ids([x])[0][0] for x in "ABCD"]
    expected = index_scores(model, rec.encoder.prompt_ids([prompt])[0], labels)
    assert torch.allclose(torch.tensor(rec.score(history, candidates)), expected)
    assert rec._template(None, None, task="matching").aspects == ("P1", "I0", "matching")
    assert {item for item, _ in rec.recommend(history, k=2)} <= set(CATALOG[2:])


@pytest.mark.parametrize("template", ["p1-i0-matching-1", "p1-i0-reranking-3"])
def test_the_trainers_metric_is_what_the_recommender_gives_on_the_same_rows(tiny_assets, tmp_path, template):
    """One scoring path: the trainer's evaluation and the deployed Recommender rank alike."""
    from training_helpers import tiny_configs

    from instructrec_peft.evaluation.metrics.formulas import ranking_metrics, target_ranks
    from instructrec_peft.training.tuning import run_tuning

    task = get_template(template).task
    result = run_tuning(*tiny_configs(tiny_assets, tmp_path / "out", task_mix=f"{task}=1", templates=[template],
                                      eval_template=template))
    trainer = result.trainer
    metrics = trainer.evaluate()
    rec = Recommender.from_pretrained(str(tmp_path / "out"))
    catalog, scores, targets = trainer.catalog, [], []
    for row in trainer.eval_dataset:
        history = [catalog.text(i) for i in row["history"]]
        candidates = [catalog.text(i) for i in row["candidates"]]
        shown = candidates if task == "reranking" else ()
        assert rec._prompt(rec._template(None, None), history, shown) == row["prompt"]
        scores.append(rec.score(history, candidates))
        targets.append(row["candidates"].index(row["target"]))
    expected = ranking_metrics(target_ranks(scores, targets), (1, 3, 5, 10))
    assert {k: metrics[f"eval_{k}"] for k in expected} == pytest.approx(expected, abs=1e-12)
    assert metrics["eval_users"] == len(trainer.eval_dataset) == 6


def test_a_nan_score_is_an_error_naming_the_user_not_a_rank(tiny_assets):
    from instructrec_peft.config import DataArguments
    from instructrec_peft.errors import ScoringError
    from instructrec_peft.evaluation.metrics.formulas import target_ranks
    from instructrec_peft.evaluation.protocols import protocol_rows
    from instructrec_peft.inference.candidates import rank_rows

    model = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"])
    encoder = PromptEncoder(load_tokenizer(ModelArguments(model_name_or_path=tiny_assets["gpt2"])))
    data = protocol_rows("loo-random-10", DataArguments(dataset=tiny_assets["data"]), encoder, seed=0, users=2)
    with torch.no_grad():
        model.get_output_embeddings().weight[:] = float("nan")
    with pytest.raises(ScoringError, match=f"user {data.rows[0]['user']!r}: the model gave NaN scores to 10 of 10"):
        rank_rows(model, encoder, data.rows, data.log.catalog, progress=False)
    with pytest.raises(ScoringError, match="row 1: 1 NaN score"):
        target_ranks([[0.1, 0.2], [float("nan"), 0.3]], [0, 0])


def test_recommend_and_rank_agree_on_the_scores(recommender):
    history = CATALOG[:4]
    top = recommender.top_items(history, k=3)
    assert top == recommender.recommend(history, k=3)  # the same (item, score) pairs as rank() gives
    scores = [score for _, score in top]
    assert scores == sorted(scores, reverse=True)
    # Beam search finds the items; the scorer that rank() uses orders them, with the same numbers.
    assert recommender.rank(history, [item for item, _ in top]) == top
