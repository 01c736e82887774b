"""Items as tokens: the map, labels, training, saving, plain-PEFT loading, scoring, new items, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from training_helpers import tiny_configs

from instructrec_peft.errors import DataError
from instructrec_peft.inference.item_scoring import full_ranks, item_scores, rank_item_rows
from instructrec_peft.instructions.item_examples import encode_item_rows, item_labels
from instructrec_peft.instructions.item_tokens import ItemTokens, TokenCatalog, add_item_tokens
from instructrec_peft.models.item_head import ItemLogits

# ---- the map -------------------------------------------------------------------------------------

def test_map_positions_ids_and_round_trip():
    tokens = ItemTokens.create(["a", "b", "c"], ["A (1990)", "B (1991)", "C (1992)"], first_id=300)
    assert tokens.strings == ["<|item_0|>", "<|item_1|>", "<|item_2|>"]
    assert tokens.token_ids(["c", "a"]) == [302, 300]
    assert tokens.id_range == range(300, 303)
    assert tokens.show("b", "tokens") == "<|item_1|>"
    assert tokens.show("b", "token+title") == "<|item_1|> B (1991)"
    assert tokens.show("b", "title") == "B (1991)"
    assert ItemTokens.from_dict(json.loads(json.dumps(tokens.to_dict()))) == tokens
    assert tokens.extend(["d"], ["D"]).token_id("d") == 303


@pytest.mark.parametrize("items", [[], ["only"]])
def test_a_catalogue_of_zero_or_one_item_is_refused(items):
    with pytest.raises(DataError, match=f"at least 2 items, got {len(items)}"):
        ItemTokens.create(items, items, first_id=10)


def test_an_item_missing_from_the_map_is_named():
    tokens = ItemTokens.create(["a", "b"], ["A", "B"], first_id=10)
    with pytest.raises(DataError, match="item 'zz' has no item token; the adapter's map holds 2 items"):
        tokens.token_id("zz")


def test_duplicate_items_are_refused():
    with pytest.raises(DataError, match="item id 'a' appears more than once"):
        ItemTokens.create(["a", "b", "a"], ["A", "B", "A"], first_id=10)


def test_tokens_are_added_contiguously_and_tokenise_exactly(bpe_tokenizer):
    from copy import deepcopy  # the fixture is shared by the session: add tokens to a copy

    tok = deepcopy(bpe_tokenizer)
    size = len(tok)
    tokens = add_item_tokens(tok, ["7", "8", "9"], ["Film A", "Film B", "Film C"])
    assert tokens.first_id == size and len(tok) == size + 3
    ids = tok("seen: <|item_2|><|item_0|>.", add_special_tokens=False)["input_ids"]
    assert ids[-3:-1] == [size + 2, size]
    with pytest.raises(DataError, match="already has item tokens"):
        add_item_tokens(tok, ["7", "8"], ["Film A", "Film B"])


def test_a_tokenizer_that_does_not_match_the_map_is_refused(bpe_tokenizer):
    from copy import deepcopy

    tok = deepcopy(bpe_tokenizer)
    tokens = add_item_tokens(tok, ["7", "8", "9"], ["Film A", "Film B", "Film C"])
    shifted = ItemTokens.create(tokens.items, tokens.texts, tokens.first_id + 1)
    with pytest.raises(DataError, match=r"does not match the tokenizer: <\|item_0\|> \(item '7'\) should be token"):
        shifted.check(tok)
    with pytest.raises(DataError, match="no such token"):
        ItemTokens.create(tokens.items, tokens.texts, tokens.first_id).check(bpe_tokenizer)


def test_token_catalog_shows_tokens_and_keeps_categories(toy_catalog):
    items = list(toy_catalog.texts)
    tokens = ItemTokens.create(items, [toy_catalog.text(i) for i in items], first_id=1000)
    view = TokenCatalog(toy_catalog, tokens, "tokens")
    assert view.text(items[1]) == "<|item_1|>"
    assert view.categories(items[1]) == toy_catalog.categories(items[1])
    with pytest.raises(DataError, match="have no item token"):
        TokenCatalog(toy_catalog, ItemTokens.create(items[:2], ["x", "y"], 1000))


# ---- labels --------------------------------------------------------------------------------------

def test_all_position_labels_on_a_hand_built_example():
    items = range(100, 110)
    #          text text item  item  item  text  | answer
    ids = [5, 6, 101, 104, 102, 7, 108]
    assert item_labels(ids, 6, items, all_positions=True) == [-100, -100, -100, 104, 102, -100, 108]
    assert item_labels(ids, 6, items, all_positions=False) == [-100, -100, -100, -100, -100, -100, 108]


def test_encode_item_rows_labels_history_only_for_matching(bpe_tokenizer):
    from copy import deepcopy

    from instructrec_peft.instructions.tokenization import PromptEncoder

    tok = deepcopy(bpe_tokenizer)
    tokens = add_item_tokens(tok, ["a", "b", "c", "d"], ["Film A", "Film B", "Film C", "Film D"])
    encoder = PromptEncoder(tok, chat_template=False)
    f = tokens.first_id
    rows = {"prompt": ["Film <|item_0|><|item_2|><|item_1|>", "Film <|item_0|><|item_2|>"],
            "target": ["d", "c"], "task": ["matching", "reranking"], "preference": ["P1", "P1"]}
    out = encode_item_rows(encoder, tokens, rows)
    prefix = tok("Film ", add_special_tokens=False)["input_ids"]
    n = len(prefix)
    # The prompt's "\n" follows the history; the answer is the target token, with no EOS.
    assert out["input_ids"][0][n:] == [f, f + 2, f + 1, *tok("\n", add_special_tokens=False)["input_ids"], f + 3]
    assert out["labels"][0] == [-100] * n + [-100, f + 2, f + 1, -100, f + 3]
    assert out["labels"][1] == [-100] * (n + 3) + [f + 2]


# ---- training, saving, loading -------------------------------------------------------------------

@pytest.fixture(scope="module", params=["llama", "gpt2"])
def item_run(request, tiny_assets, tmp_path_factory):
    from instructrec_peft.training.tuning import run_tuning

    out = tmp_path_factory.mktemp(f"items-{request.param}")
    model_args, data_args, train_args = tiny_configs(
        tiny_assets, out, arch=request.param, item_tokens=True, item_token_init="text+bpr", max_history_items=5,
        item_token_learning_rate=5e-2)
    result = run_tuning(model_args, data_args, train_args)
    return request.param, out, result, tiny_assets


def test_a_run_splits_its_log_once(tiny_assets, tmp_path, monkeypatch):
    # The collaborative rows (text+bpr), the examples and the validation rows share one split.
    import instructrec_peft.models.workspace as workspace
    from instructrec_peft.training.tuning import run_tuning

    calls = []
    split = workspace.leave_one_out
    monkeypatch.setattr(workspace, "leave_one_out", lambda *a, **k: calls.append(1) or split(*a, **k))
    run_tuning(*tiny_configs(tiny_assets, tmp_path / "out", item_tokens=True, item_token_init="text+bpr",
                             max_history_items=5, max_steps=1))
    assert len(calls) == 1


def _base_with_items(assets, arch, out):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(out)
    base = AutoModelForCausalLM.from_pretrained(assets[arch])
    base.resize_token_embeddings(len(tokenizer))
    return base, tokenizer


def test_item_rows_train_and_base_rows_do_not(item_run):
    from transformers import AutoModelForCausalLM

    from instructrec_peft.models.item_rows import embedding_weights

    arch, out, result, assets = item_run
    tokens = ItemTokens.from_dict(json.loads((out / "instructrec_manifest.json").read_text())["item_tokens"])
    model = result.trainer.model
    original = AutoModelForCausalLM.from_pretrained(assets[arch]).get_input_embeddings().weight
    merged = model.get_input_embeddings().token_adapter.get_merged_weights(["default"]).detach()
    start = embedding_weights(model)[0].detach()  # the initialised rows, kept under PEFT's delta
    assert torch.equal(merged[:tokens.first_id], original)
    assert torch.equal(start[:tokens.first_id], original)
    assert not torch.allclose(merged[tokens.id_range.start:tokens.id_range.stop],
                              start[tokens.id_range.start:tokens.id_range.stop])


def test_the_adapter_saves_only_the_item_rows(item_run):
    arch, out, result, _ = item_run
    tokens = json.loads((out / "instructrec_manifest.json").read_text())["item_tokens"]
    state = load_file(out / "adapter_model.safetensors")
    rows = [k for k in state if "trainable_tokens_delta" in k]
    assert rows and all(state[k].shape[0] == len(tokens["items"]) for k in rows)
    assert not [k for k in state if "base_layer" in k or k.endswith(("wte.weight", "embed_tokens.weight"))]
    config = json.loads((out / "adapter_config.json").read_text())
    assert list(config["trainable_token_indices"].values())[0] == list(
        range(tokens["first_id"], tokens["first_id"] + len(tokens["items"])))


def test_plain_peft_after_resizing_scores_as_the_recommender(item_run):
    from peft import PeftModel

    from instructrec_peft.inference.recommender import Recommender

    arch, out, result, assets = item_run
    base, tokenizer = _base_with_items(assets, arch, out)
    plain = PeftModel.from_pretrained(base, str(out)).eval()
    rec = Recommender.from_pretrained(str(out))
    tokens = rec.item_tokens
    history, candidates = tokens.items[:3], tokens.items[3:8]
    prompt = rec._prompt(rec._template(None, None), history)
    ids = torch.tensor(rec.encoder.prompt_ids([prompt]))
    with torch.no_grad():
        logits = plain(input_ids=ids).logits[0, -1]
    expected = logits[tokens.token_ids(candidates)]
    got = torch.tensor(rec.score(history, candidates))
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    # Texts work as well as ids, and recommend ranks every item but the history.
    assert rec.score([tokens.text(i) for i in history], candidates) == rec.score(history, candidates)
    full = logits[tokens.id_range.start:tokens.id_range.stop].clone()
    full[[tokens.position(i) for i in history]] = -torch.inf
    best = torch.topk(full, 4)
    assert [item for item, _ in rec.recommend(history, k=4)] == [tokens.texts[i] for i in best.indices.tolist()]
    assert [score for _, score in rec.recommend(history, k=4)] == pytest.approx(best.values.tolist(), abs=1e-5)


def test_the_training_head_equals_the_model_logits(item_run):
    arch, out, result, _ = item_run
    model = result.trainer.model
    tokens = result.trainer.space.tokens
    ids = torch.tensor([[3, 4, tokens.first_id + 1, tokens.first_id + 5, 7]])
    keep = torch.tensor([[False, True, True, False, True]])
    fast = ItemLogits(model, tokens.id_range)
    assert fast.base is not None  # both tiny models tie their head
    slow = ItemLogits(model, tokens.id_range)
    slow.base = None
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(fast(ids, keep).logits, slow(ids, keep).logits, rtol=1e-5, atol=1e-5)


def test_padded_batches_score_as_single_prompts(item_run):
    arch, out, result, _ = item_run
    model, tokens = result.trainer.model, result.trainer.space.tokens
    prompts = [[3, 4, tokens.first_id], [5, tokens.first_id + 2, tokens.first_id + 1, 6, 7, 8]]
    batched = item_scores(model, prompts, tokens.id_range, batch_size=2)
    alone = torch.cat([item_scores(model, [p], tokens.id_range) for p in prompts])
    torch.testing.assert_close(batched, alone, rtol=1e-5, atol=1e-5)
    assert batched.shape == (2, len(tokens))


def test_trainer_evaluation_equals_direct_ranking(item_run):
    from instructrec_peft.evaluation.metrics.formulas import ranking_metrics, target_ranks

    arch, out, result, _ = item_run
    trainer = result.trainer
    metrics = trainer.evaluate()
    scores, targets = rank_item_rows(trainer.model, trainer.encoder, trainer.space.tokens, trainer.eval_dataset,
                                     progress=False)
    direct = ranking_metrics(target_ranks(scores, targets), trainer.args.ranking_k_values)
    assert metrics["eval_ndcg@10"] == pytest.approx(direct["ndcg@10"])
    assert metrics["eval_users"] == len(trainer.eval_dataset)


def test_new_items_get_a_token_from_their_text(item_run):
    from instructrec_peft.inference.recommender import Recommender
    from instructrec_peft.models.item_rows import text_means

    arch, out, result, _ = item_run
    rec = Recommender.from_pretrained(str(out))
    before = len(rec.item_tokens)
    history = rec.item_tokens.items[:3]
    old_scores = rec.score(history, rec.item_tokens.items[3:6])
    rec.add_items(["new-1", "new-2"], ["Film Q99", "Film R98 (2001)"])
    assert len(rec.item_tokens) == before + 2 and rec.item_tokens.token_id("new-2") == rec.item_tokens.id_range[-1]
    rows = rec.model.get_input_embeddings().token_adapter.get_merged_weights(["default"])
    expected = text_means(rec.model, rec.tokenizer, ["Film Q99", "Film R98 (2001)"])
    torch.testing.assert_close(rows[-2:].detach(), expected)
    assert rec.score(history, rec.item_tokens.items[3:6]) == pytest.approx(old_scores, abs=1e-5)
    assert len(rec.score(history, ["new-1", "Film R98 (2001)"])) == 2
    assert len(rec.recommend(history, k=before + 2 - 3)) == before - 1
    with pytest.raises(ValueError, match="already has a token"):
        rec.add_items(["new-1"], ["again"])


def test_recommender_errors_name_the_problem(item_run):
    from transformers import AutoTokenizer

    from instructrec_peft.inference.recommender import Recommender
    from instructrec_peft.instructions.manifest import Manifest

    arch, out, result, assets = item_run
    rec = Recommender.from_pretrained(str(out))
    with pytest.raises(ValueError, match="unknown item 'nope'"):
        rec.score(rec.item_tokens.items[:2], ["nope"])
    with pytest.raises(DataError, match="does not match the tokenizer"):
        Recommender(rec.model, AutoTokenizer.from_pretrained(assets[arch]), Manifest.load(out))


# ---- evaluation helpers ----------------------------------------------------------------------------

def test_full_ranks_exclude_history_and_count_ties_against_the_target():
    class Split:
        @staticmethod
        def history(user, stage):
            return {"u": ["a"], "v": []}[user]

    tokens = ItemTokens.create(["a", "b", "c", "d"], list("ABCD"), first_id=0)
    rows = [{"user": "u", "target": "c"}, {"user": "v", "target": "b"}]
    scores = np.array([[9.0, 1.0, 2.0, 2.0], [5.0, 3.0, 3.0, 0.0]])
    # u: "a" is history; "d" ties "c" -> rank 2. v: "a" beats "b", "c" ties it -> rank 3.
    assert full_ranks(tokens, rows, scores, Split).tolist() == [2, 3]
    assert full_ranks(tokens, rows, scores, Split, items=["b", "c"]).tolist() == [1, 2]  # pool b, c only


def test_window_targets_cover_the_train_sequence(toy_log):
    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.instructions.examples import ExampleConfig, _targets

    split = leave_one_out(toy_log)
    user = max(split.users, key=lambda u: len(split.train_sequence(u)))
    sequence = split.train_sequence(user)
    config = ExampleConfig(max_history_items=2, examples_per_user=None, windows=True)
    ends = [len(history) for history, _, _ in _targets(split, user, "train", config, np.random.default_rng(0))]
    assert ends == list(range(len(sequence) - 1, 0, -3))[::-1]
    one = ExampleConfig(max_history_items=2, examples_per_user=1, windows=True)
    assert [len(h) for h, _, _ in _targets(split, user, "train", one, np.random.default_rng(0))] == [len(sequence) - 1]


# ---- configuration -----------------------------------------------------------------------------------

def test_item_token_config_errors(tiny_assets, tmp_path):
    with pytest.raises(ValueError, match=r"DataArguments.task_mix: \['pointwise'\] answer with Yes/No"):
        tiny_configs(tiny_assets, tmp_path, item_tokens=True, task_mix="matching=1,pointwise=1")
    with pytest.raises(ValueError, match="DataArguments.eval_template: .*answer with a list label"):
        tiny_configs(tiny_assets, tmp_path, item_tokens=True, task_mix="reranking=1",
                     eval_template="p1-i0-reranking-3")
    with pytest.raises(ValueError, match="DataArguments.item_token_init: 'bpr' is not one of"):
        tiny_configs(tiny_assets, tmp_path, item_tokens=True, item_token_init="bpr")
    with pytest.raises(ValueError, match="DataArguments.item_text: 'title' is not one of"):
        tiny_configs(tiny_assets, tmp_path, item_tokens=True, item_text="title")


def test_the_card_describes_item_tokens_and_resizes_before_loading(item_run):
    arch, out, result, _ = item_run
    card = (out / "README.md").read_text()
    manifest = json.loads((out / "instructrec_manifest.json").read_text())
    assert f"Each of the catalogue's {len(manifest['item_tokens']['items'])} movies is one new token" in card
    assert "base.resize_token_embeddings(len(tokenizer))" in card
    assert "plus its BPR-MF factor" in card
    assert f'rec.recommend(history=["{manifest["item_tokens"]["texts"][0]}"' in card


def test_the_cards_ranking_snippet_gives_the_recommenders_ranking(item_run):
    import re

    from instructrec_peft.hub.model_card import build_card
    from instructrec_peft.inference.recommender import Recommender

    arch, out, result, assets = item_run
    card = str(build_card(out, repo_id="me/tiny-items", base_model="me/tiny-base"))
    load, rank = card.split("With PEFT alone")[1].split("```python\n")[1:3]
    code = (load.split("```")[0] + rank.split("```")[0]).replace('"me/tiny-base"', repr(assets[arch]))
    scope = {}
    exec(code.replace('"me/tiny-items"', repr(str(out))), scope)
    rec = Recommender.from_pretrained(str(out))
    prompt = json.loads((out / "instructrec_manifest.json").read_text())["example"]["prompt"]
    history = [rec.item_tokens.items[int(n)] for n in re.findall(r"<\|item_(\d+)\|>", prompt)]
    assert history and rec._prompt(rec._template(None, None, task="matching"), history) == prompt
    assert scope["top10"] == [item for item, _ in rec.recommend(history, k=10)]
    expected = rec.space.item_scores(rec.model, rec.encoder, [prompt])[0].clone()
    expected[[rec.item_tokens.position(i) for i in history]] = -torch.inf
    torch.testing.assert_close(scope["scores"], expected, atol=1e-5, rtol=0)


def test_without_a_separator_the_answer_follows_the_last_history_item(bpe_tokenizer):
    from copy import deepcopy

    from instructrec_peft.instructions.tokenization import PromptEncoder

    tok = deepcopy(bpe_tokenizer)
    tokens = add_item_tokens(tok, ["a", "b", "c"], ["Film A", "Film B", "Film C"])
    encoder = PromptEncoder(tok, chat_template=False, separator="")
    f = tokens.first_id
    out = encode_item_rows(encoder, tokens, {"prompt": ["Film <|item_0|><|item_2|>"], "target": ["b"],
                                             "task": ["matching"], "preference": ["P1"]})
    n = len(tok("Film ", add_special_tokens=False)["input_ids"])
    assert out["input_ids"][0][n:] == [f, f + 2, f + 1]
    assert out["labels"][0] == [-100] * n + [-100, f + 2, f + 1]


def test_the_item_config_parses(tmp_path):
    from pathlib import Path

    from instructrec_peft.config import parse_config

    config = Path(__file__).parents[1] / "recipes" / "configs" / "items-cpu.yaml"
    model_args, data_args, train_args = parse_config([str(config), "--output_dir", str(tmp_path)])
    assert data_args.item_tokens and data_args.answer_separator == "" and data_args.chat_template is False
    assert data_args.eval_template == "p1-i0-matching-5" and model_args.quantization == "none"


def test_evaluate_recipe_ranks_candidates_and_the_catalogue(item_run, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from instructrec_peft.config import saved_configs
    from instructrec_peft.evaluation.metrics.formulas import ranking_metrics
    from instructrec_peft.evaluation.protocols import protocol_rows, run_item_lm
    from instructrec_peft.instructions.manifest import Manifest
    from instructrec_peft.instructions.tokenization import PromptEncoder
    from instructrec_peft.models.loading import item_tokens_of, load_adapter

    arch, out, result, _ = item_run
    recipe = Path(__file__).resolve().parents[1] / "recipes" / "evaluate.py"
    report = tmp_path / "metrics.json"
    run = subprocess.run([sys.executable, str(recipe), "--adapter", str(out), "--users", "5", "--output", str(report)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "full ranking (every item the user has not touched), 5 test users" in run.stdout
    saved = json.loads(report.read_text())
    name = f"adapter {out}"
    model_args, data_args = saved_configs(out)
    encoder = PromptEncoder.for_settings(result.trainer.processing_class, Manifest.load(out))
    data = protocol_rows("loo-random-10", data_args, encoder, seed=42, users=5)
    ranked = run_item_lm(load_adapter(str(out), model_args=model_args), encoder, data_args, item_tokens_of(out), data,
                         progress=False)
    assert saved["results"][name] == pytest.approx(ranking_metrics(ranked.loo))
    assert saved["full"][name] == pytest.approx(ranking_metrics(ranked.full))
    assert set(saved["full"]) == {"popularity", name}


def test_item_rows_learn_at_their_own_rate(item_run):
    arch, out, result, _ = item_run
    optimizer = result.trainer.optimizer
    rows = [p for n, p in result.trainer.model.named_parameters() if "trainable_tokens_delta" in n and p.requires_grad]
    groups = [g for g in optimizer.param_groups if any(p is rows[0] for p in g["params"])]
    assert len(groups) == 1 and groups[0]["weight_decay"] == 0.0 and len(groups[0]["params"]) == len(rows)
    assert groups[0]["initial_lr"] == 5e-2  # item_token_learning_rate of the fixture; LoRA's is 1e-2
    assert {g["initial_lr"] for g in optimizer.param_groups if g is not groups[0]} == {1e-2}


def test_initial_rows_are_the_title_mean_plus_a_scaled_factor(tiny_assets, toy_log):
    from copy import deepcopy

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.evaluation.baselines import item_factors
    from instructrec_peft.instructions.item_tokens import resize_for_items
    from instructrec_peft.models.item_rows import item_token_rows, set_item_rows

    tokenizer = AutoTokenizer.from_pretrained(tiny_assets["llama"])
    model = AutoModelForCausalLM.from_pretrained(tiny_assets["llama"])
    weight = deepcopy(model.get_input_embeddings().weight.detach())
    items = list(toy_log.catalog.texts)
    tokens = add_item_tokens(tokenizer, items, [toy_log.catalog.text(i) for i in items])
    text = item_token_rows(model, tokenizer, tokens)
    ids = tokenizer(tokens.texts[2], add_special_tokens=False)["input_ids"]
    torch.testing.assert_close(text[2], weight[ids].mean(0))
    factors = item_factors("bpr", leave_one_out(toy_log), items, seed=0)
    both = item_token_rows(model, tokenizer, tokens, factors, seed=0)
    cf = both - text
    # The collaborative part's mean norm is half the text part's.
    assert cf.norm(dim=1).mean().item() == pytest.approx(0.5 * text.norm(dim=1).mean().item(), rel=1e-5)
    with pytest.raises(ValueError, match="11 factors for 12 items"):
        item_token_rows(model, tokenizer, tokens, factors[:11])
    resize_for_items(model, tokens)
    set_item_rows(model, tokens, both)
    assert torch.equal(model.get_output_embeddings().weight[tokens.first_id:], both)  # tied head: same rows
    assert torch.equal(model.get_input_embeddings().weight[:tokens.first_id], weight)


def test_a_space_for_an_item_token_adapter_needs_no_catalogue_file(item_run, tmp_path):
    from instructrec_peft.hub.space import CATALOG_FILE, space_folder

    _, out, _, _ = item_run
    space = space_folder(out, "me/items", tmp_path / "space")
    assert not (space / CATALOG_FILE).exists()
    assert 'load_recommender(ADAPTER, feedback="feedback.jsonl", catalog_file=None)' in (space / "app.py").read_text()


def test_category_names_add_to_the_initial_rows(tiny_assets, toy_log):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.evaluation.baselines import item_factors
    from instructrec_peft.models.item_rows import category_rows, item_token_rows, text_means

    tokenizer = AutoTokenizer.from_pretrained(tiny_assets["llama"])
    model = AutoModelForCausalLM.from_pretrained(tiny_assets["llama"])
    items = list(toy_log.catalog.texts)
    tokens = add_item_tokens(tokenizer, items, [toy_log.catalog.text(i) for i in items])
    cats = [toy_log.catalog.categories(i) for i in items]
    cats[5] = []  # an item without categories gets nothing added
    rows = category_rows(model, tokenizer, cats)
    names = text_means(model, tokenizer, ["Horror", "Sci-Fi"])
    torch.testing.assert_close(rows[0], names.mean(0))  # item "1": Horror|Sci-Fi
    assert torch.equal(rows[5], torch.zeros(rows.shape[1]))
    text = item_token_rows(model, tokenizer, tokens)
    torch.testing.assert_close(item_token_rows(model, tokenizer, tokens, categories=cats), text + rows)
    # The collaborative part keeps its scale against the title part alone.
    factors = item_factors("bpr", leave_one_out(toy_log), items)
    with_cf = item_token_rows(model, tokenizer, tokens, factors, categories=cats)
    torch.testing.assert_close(with_cf - text - rows, item_token_rows(model, tokenizer, tokens, factors) - text)
    with pytest.raises(ValueError, match="2 category lists for 12 items"):
        item_token_rows(model, tokenizer, tokens, categories=cats[:2])


def test_the_score_matrix_is_the_recommenders_ranking(item_run):
    from instructrec_peft import Recommender

    _, out, _, _ = item_run
    rec = Recommender.from_pretrained(str(out))
    history = rec.item_tokens.items[:3]
    matrix = rec.item_score_matrix([{"history": history}, {"history": history, "intention": "something funny"}])
    assert matrix.shape == (2, len(rec.item_tokens))
    top = rec.top_items(history, k=4)
    assert [round(s, 4) for _, s in top] == [round(float(matrix[0][rec.item_tokens.position(i)]), 4) for i, _ in top]
    steered = rec.top_items(history, k=4, intention="something funny")
    assert [round(s, 4) for _, s in steered] == \
        [round(float(matrix[1][rec.item_tokens.position(i)]), 4) for i, _ in steered]


def test_the_map_keeps_categories_and_new_items_start_from_theirs(item_run):
    from instructrec_peft.inference.recommender import Recommender
    from instructrec_peft.instructions.item_tokens import ItemTokens
    from instructrec_peft.models.item_rows import category_rows, text_means

    _, out, _, _ = item_run
    rec = Recommender.from_pretrained(str(out))
    tokens = rec.item_tokens
    assert ItemTokens.from_dict(tokens.to_dict()) == tokens and tokens.categories is not None
    known = tokens.known_categories()
    assert tokens.categories_of(tokens.items[0]) and set(tokens.categories_of(tokens.items[0])) <= set(known)
    rec.add_items(["new-1", "new-2"], ["Film Q99", "Film R98"], categories=[[known[0]], []])
    assert rec.item_tokens.categories_of("new-1") == [known[0]] and rec.item_tokens.categories_of("new-2") == []
    rows = rec.model.get_input_embeddings().token_adapter.get_merged_weights(["default"])
    expected = text_means(rec.model, rec.tokenizer, ["Film Q99", "Film R98"]) + \
        category_rows(rec.model, rec.tokenizer, [[known[0]], []])
    torch.testing.assert_close(rows[-2:].detach(), expected)
    with pytest.raises(ValueError, match="categories must be one list of category names per item"):
        rec.add_items(["new-3"], ["Film S97"], categories=["Comedy"])


def test_an_unknown_category_in_a_request_is_named(item_run):
    from instructrec_peft.inference.recommender import Recommender

    _, out, _, _ = item_run
    rec = Recommender.from_pretrained(str(out))
    history = rec.item_tokens.items[:3]
    known = rec.item_tokens.known_categories()
    with pytest.raises(ValueError, match=r"unknown category \['Cartoons'\] in 'a Cartoons movie'; the adapter's "
                                         r"items have \["):
        rec.top_items(history, k=3, intention="a Cartoons movie")
    with pytest.raises(ValueError, match=r"unknown category \['Horor'\] in 'I like .* but not Horor'"):
        rec.top_items(history, k=3, preference=f"I like {known[0]} movies but not Horor")
    # Free wording names no category and a known one passes.
    assert len(rec.top_items(history, k=3, intention="something to watch tonight")) == 3
    assert len(rec.top_items(history, k=3, intention=f"a {known[0]} movie")) == 3


def test_explanations_state_the_measured_score_changes(item_run):
    from instructrec_peft.inference.app import recommend_rows
    from instructrec_peft.inference.explanations import Explanation, explain_items
    from instructrec_peft.inference.recommender import Recommender

    _, out, _, _ = item_run
    rec = Recommender.from_pretrained(str(out))
    history = rec.item_tokens.items[:4]
    known = rec.item_tokens.known_categories()
    top = [i for i, _ in rec.top_items(history, k=3)]
    explained = explain_items(rec, history, top, intention=f"a {known[0]} movie", top=2)
    with_request = rec.item_score_matrix([{"history": history, "intention": f"a {known[0]} movie"}])[0]
    plain = rec.item_score_matrix([{"history": history}])[0]
    for e in explained:
        column = rec.item_tokens.position(e.item)
        assert e.score == pytest.approx(float(with_request[column]), abs=1e-4)
        assert e.request_gain == pytest.approx(float(with_request[column] - plain[column]), abs=1e-4)
        assert e.matched == ([known[0]] if known[0] in rec.item_tokens.categories_of(e.item) else [])
        for removed, drop in e.because:  # each named item's drop is the measured one
            rest = [i for i in history if i != removed]
            without = rec.item_score_matrix([{"history": rest, "intention": f"a {known[0]} movie"}])[0][column]
            assert drop == pytest.approx(e.score - float(without), abs=1e-4) and drop > 0
        assert [d for _, d in e.because] == sorted((d for _, d in e.because), reverse=True)
    rows = recommend_rows(rec, history, k=3)
    assert [r[3] for r in rows] == [e.text(rec.label) for e in explain_items(rec, history, top)]
    text = Explanation("1", 3.0, [("a", 1.5), ("b", 0.25)], ["Drama"], 2.0, ["Drama"]).text(str.upper)
    assert text == "Because you watched A (+1.50) and B (+0.25), Drama like it. Your request raised it by +2.00 " \
                   "(it is Drama)."
    assert Explanation("1", 3.0).text() == ("No single item of the history raises it: it ranks high for the history "
                                            "as a whole.")
