"""Catalogue text is text, titles may repeat, and a failed call changes nothing.

One tiny item-token run on a catalogue with hostile and duplicated titles: item 5 is titled
``<|item_5|>`` (an item token's string), item 6 ``<|endoftext|>`` (the tokenizer's end of text),
and items 7 and 8 are both "Hamlet (1996)", as two items are in ML-100K.
"""

import shutil
from pathlib import Path

import pytest
import torch
from training_helpers import tiny_configs

from instructrec_peft.errors import ArgumentError

TITLES = {5: ("<|item_5|>", "1985"), 6: ("<|endoftext|>", "1986"), 7: ("Hamlet", "1996"), 8: ("Hamlet", "1996")}


@pytest.fixture(scope="module")
def hostile_run(tiny_assets, tmp_path_factory):
    from instructrec_peft.training.tuning import run_tuning

    root = tmp_path_factory.mktemp("hostile")
    data = root / "toy"
    shutil.copytree(tiny_assets["data"], data)
    lines = (data / "toy.item").read_text().splitlines()
    for item, (title, year) in TITLES.items():
        _, _, _, genre = lines[item + 1].split("\t")
        lines[item + 1] = f"{item}\t{title}\t{year}\t{genre}"
    (data / "toy.item").write_text("\n".join(lines) + "\n")
    assets = {**tiny_assets, "data": str(data)}
    out = root / "out"
    # Tuning used to stop with an IndexError here: the title <|item_5|> was read as a token.
    run_tuning(*tiny_configs(assets, out, item_tokens=True, item_token_init="text", max_steps=2))
    return out, assets


@pytest.fixture
def rec(hostile_run):
    from instructrec_peft.inference.recommender import Recommender

    return Recommender.from_pretrained(str(hostile_run[0]))


def test_special_token_strings_in_titles_stay_text(rec):
    tokens, eos = rec.item_tokens, rec.tokenizer.eos_token_id
    assert tokens.text("5") == "<\u200b|item_5|> (1985)" and tokens.text("6") == "<\u200b|endoftext|> (1986)"
    for item in ("5", "6"):
        ids = rec.tokenizer(tokens.text(item), add_special_tokens=False)["input_ids"]
        assert eos not in ids and not set(ids) & set(tokens.id_range)
    # In a prompt, the history item 5 is item 5's one token; its title never becomes a token.
    prompt = rec._prompt(rec._template(None, None), ["5", "6"], (), None, None)
    ids = rec.encoder.prompt_ids([prompt])[0]
    assert [i for i in ids if i in tokens.id_range] == [tokens.token_id("5"), tokens.token_id("6")]
    assert eos not in ids


def test_a_typed_intention_is_text_too(rec):
    prompt = rec._prompt(rec._template("<|item_9|> or <|endoftext|>", None), ["1"], (),
                         "<|item_9|> or <|endoftext|>", None)
    ids = rec.encoder.prompt_ids([prompt])[0]
    assert [i for i in ids if i in rec.item_tokens.id_range] == [rec.item_tokens.token_id("1")]
    assert rec.tokenizer.eos_token_id not in ids


def test_text_only_prompts_never_hold_a_data_made_token(hostile_run):
    from instructrec_peft.config import DataArguments, ModelArguments
    from instructrec_peft.instructions.tokenization import PromptEncoder
    from instructrec_peft.models.loading import load_tokenizer
    from instructrec_peft.models.workspace import load_log

    _, assets = hostile_run
    catalog = load_log(DataArguments(dataset=assets["data"])).catalog
    tokenizer = load_tokenizer(ModelArguments(model_name_or_path=assets["gpt2"]))
    encoder = PromptEncoder(tokenizer)
    prompt = f"The user watched {catalog.text('5')}, {catalog.text('6')}. Next?"
    assert tokenizer.eos_token_id not in encoder.prompt_ids([prompt])[0]


def test_an_ambiguous_title_is_refused_with_the_ids(rec):
    with pytest.raises(ArgumentError, match=r"'Hamlet \(1996\)' is the text of 2 items \(ids '7', '8'\); give the "
                       r"item id instead"):
        rec.recommend(["Hamlet (1996)"], k=3)
    with pytest.raises(ArgumentError, match=r"ids '7', '8'"):
        rec.score(["1"], ["Hamlet (1996)", "2"])


def test_items_by_id_exclude_that_item_only(rec):
    everything = rec.top_items(["7"], k=len(rec.item_tokens) - 1)
    ids = [item for item, _ in everything]
    assert "7" not in ids and "8" in ids and len(ids) == len(set(ids)) == len(rec.item_tokens) - 1
    assert rec.label("8") == "Hamlet (1996) [id 8]" and rec.label("1") == rec.item_tokens.text("1")
    assert rec.items(["Hamlet (1996) [id 8]", "1"]) == ["8", "1"]  # a shown label reads back as its item
    scores = dict(everything)
    assert rec.score(["7"], ["8", "1"]) == pytest.approx([scores["8"], scores["1"]], abs=1e-5)


def test_the_command_names_both_ids(hostile_run, capsys):
    from instructrec_peft.cli import main

    assert main(["recommend", str(hostile_run[0]), "--history", "Hamlet (1996)"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == "error: 'Hamlet (1996)' is the text of 2 items (ids '7', '8'); give the item id instead"
    assert main(["recommend", str(hostile_run[0]), "--history", "7", "-k", "39"]) == 0
    shown = capsys.readouterr().out
    assert "Hamlet (1996) [id 8]" in shown and "[id 7]" not in shown


def test_the_command_checks_the_history_before_loading_the_model(hostile_run, capsys, monkeypatch):
    import instructrec_peft.inference.app as app
    from instructrec_peft.cli import main

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the history was checked")

    monkeypatch.setattr(app, "load_recommender", no_model)
    assert main(["recommend", str(hostile_run[0]), "--history", "No Such Film (1990)"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown item 'No Such Film (1990)': neither an item id")



def test_rank_and_recommend_print_and_return_the_same_shape(hostile_run, rec, capsys):
    from instructrec_peft.cli import main

    ranked = rec.rank(["7"], ["1", "8", "2"])
    assert main(["rank", str(hostile_run[0]), "--history", "7", "--candidates", "1", "8", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{n}. {rec.label(item)}  ({score:.3f})"
                                                    for n, (item, score) in enumerate(ranked, start=1)]
    top = rec.top_items(["7"], k=3)
    assert rec.recommend(["7"], k=3) == [(rec.label(item), score) for item, score in top]
    assert main(["recommend", str(hostile_run[0]), "--history", "7", "-k", "3"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{n}. {rec.label(item)}  ({round(score, 3):.3f})"
                                                    for n, (item, score) in enumerate(top, start=1)]


def _state(rec):
    from instructrec_peft.models.item_rows import embedding_weights

    return len(rec.tokenizer), [w.detach().clone() for w in embedding_weights(rec.model)], len(rec.item_tokens)


@pytest.mark.parametrize("bad", ["empty text", "fails after the tokens are added"])
def test_a_failed_add_items_changes_nothing(rec, monkeypatch, bad):
    from instructrec_peft.instructions.item_tokens import ItemTokens

    before = _state(rec)
    if bad == "empty text":
        with pytest.raises(ArgumentError, match="item text '' has no tokens"):
            rec.add_items(["n1", "n2"], ["New Film", ""])
    else:
        def broken(self, tokenizer, source="x"):
            raise RuntimeError("simulated failure")

        with monkeypatch.context() as patch:
            patch.setattr(ItemTokens, "check", broken)
            with pytest.raises(RuntimeError, match="simulated failure"):
                rec.add_items(["n1"], ["New Film"])
    after = _state(rec)
    assert after[0] == before[0] and after[2] == before[2]
    assert all(torch.equal(a, b) for a, b in zip(after[1], before[1]))
    rec.add_items(["n1"], ["New Film"])  # a valid call afterwards works
    assert rec.item_tokens.token_id("n1") == before[0] and len(rec.tokenizer) == before[0] + 1
    assert "n1" in [item for item, _ in rec.top_items(["1"], k=len(rec.item_tokens) - 1)]


def test_the_run_kept_the_hostile_titles_as_data(hostile_run):
    import json

    manifest = json.loads((Path(hostile_run[0]) / "instructrec_manifest.json").read_text())
    texts = dict(zip(manifest["item_tokens"]["items"], manifest["item_tokens"]["texts"]))
    assert texts["5"] == "<\u200b|item_5|> (1985)" and texts["7"] == texts["8"] == "Hamlet (1996)"
