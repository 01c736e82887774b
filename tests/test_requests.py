"""Requests in train histories: each is true of its item, trained in the form evaluation asks in,
and never reaches evaluation data."""

import numpy as np
import pytest

from instructrec_peft.errors import ConfigError
from instructrec_peft.instructions.requests import REQUEST_KINDS, inline, request_for, with_requests


def test_each_kind_states_the_item_truthfully():
    rng = np.random.default_rng(0)
    assert request_for(["Comedy", "Romance"], [], "I2", "movie", "movies", rng) == "a Comedy, Romance movie"
    said = {request_for(["Comedy"], [], "I1", "movie", "movies", np.random.default_rng(s)) for s in range(60)}
    assert said == {"something funny", "a comedy", "something to laugh at", "a funny movie", "a hilarious film",
                    "a Comedy movie"}
    assert request_for(["Western"], [], "like", "movie", "movies", rng) == "I like Western movies"
    # An exclusion names a category the item lacks, from what the user watched lately.
    excluded = {request_for(["Comedy"], ["Comedy", "Horror", "War"], "exclude", "movie", "movies",
                            np.random.default_rng(s)).rsplit("not ", 1)[1] for s in range(40)}
    assert excluded == {"Horror", "War"}
    assert request_for(["Comedy"], ["Comedy"], "exclude", "movie", "movies", rng) is None  # nothing to exclude
    assert request_for([], ["Horror"], "I2", "movie", "movies", rng) is None  # no categories, nothing true to say
    with pytest.raises(ConfigError, match=r"request kind 'I3' is not one of \('I1', 'I2', 'like', 'exclude'\)"):
        request_for(["Comedy"], [], "I3", "movie", "movies", rng)


def test_with_requests_marks_the_share_asked_and_never_the_first_item(toy_catalog):
    history = ["1", "2", "3", "4", "5", "6", "7", "8"]
    shown = [f"<|item_{i}|>" for i in history]
    assert with_requests(history, shown, toy_catalog, 0.0, REQUEST_KINDS, "movie", "movies",
                         np.random.default_rng(0)) == shown
    every = with_requests(history, shown, toy_catalog, 1.0, ["I2"], "movie", "movies", np.random.default_rng(0))
    assert every[0] == shown[0]
    for item, text, plain in zip(history[1:], every[1:], shown[1:]):
        cats = ", ".join(toy_catalog.categories(item))
        article = "an" if cats[0] in "AEIOU" else "a"
        assert text == f" [{article} {cats} movie]{plain}"
    assert every[3] == " [an Animation, Comedy movie]<|item_4|>"


def test_a_train_request_reads_as_the_evaluation_prompt_does(toy_catalog):
    # The prompt that asks for item c with request X, at evaluation, is exactly the train text
    # before item c's token: the trained position is the one evaluation scores.
    from instructrec_peft.instructions.templates import get_template

    rendered = get_template("p1-i2-matching-4").render(vocabulary="movie", history=["<|item_0|>", "<|item_1|>"],
                                                       intention="a Crime, Drama movie", target="",
                                                       history_style="joined").prompt
    train = get_template("p1-i0-matching-5").render(
        vocabulary="movie", history=["<|item_0|>", "<|item_1|>", inline("<|item_2|>", "a Crime, Drama movie")],
        target="", history_style="joined").prompt
    assert train == rendered + "<|item_2|>"


def test_requests_enter_train_examples_only(toy_log):
    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.instructions.examples import ExampleConfig, build_examples

    split = leave_one_out(toy_log)
    plain, asked = (ExampleConfig(templates=["p1-i0-matching-5"], examples_per_user=None, request_rate=r,
                                  num_candidates=4, history_style="joined", seed=0) for r in (0.0, 1.0))
    for stage in ("valid", "test"):
        assert build_examples(split, toy_log.catalog, stage, asked)["prompt"] == \
            build_examples(split, toy_log.catalog, stage, plain)["prompt"]
    train = build_examples(split, toy_log.catalog, "train", asked)
    assert sum(p.count(" [") for p in train["prompt"]) > 0
    assert train["prompt"] != build_examples(split, toy_log.catalog, "train", plain)["prompt"]
    # request_examples: the share of train examples that carry requests at all.
    none = ExampleConfig(templates=["p1-i0-matching-5"], examples_per_user=None, request_rate=1.0,
                         request_examples=0.0, num_candidates=4, history_style="joined", seed=0)
    assert sum(p.count(" [") for p in build_examples(split, toy_log.catalog, "train", none)["prompt"]) == 0
    with pytest.raises(ConfigError, match=r"request_rate must be in \[0, 1\], got 1.5"):
        ExampleConfig(request_rate=1.5)
    with pytest.raises(ConfigError, match=r"request_kinds: \['I9'\]"):
        ExampleConfig(request_kinds=["I9"])


def test_a_position_after_a_request_is_labelled_with_its_item(bpe_tokenizer):
    from copy import deepcopy

    from instructrec_peft.instructions.item_examples import encode_item_rows
    from instructrec_peft.instructions.item_tokens import add_item_tokens
    from instructrec_peft.instructions.tokenization import PromptEncoder

    tok = deepcopy(bpe_tokenizer)
    tokens = add_item_tokens(tok, ["a", "b", "c"], ["Film A", "Film B", "Film C"])
    encoder = PromptEncoder(tok, chat_template=False, separator="")
    f = tokens.first_id
    rows = {"prompt": ["<|item_0|> [a Comedy movie]<|item_1|>"], "target": ["c"], "task": ["matching"],
            "preference": ["P2"]}
    out = encode_item_rows(encoder, tokens, rows)
    request = tok(" [a Comedy movie]", add_special_tokens=False)["input_ids"]
    assert out["input_ids"][0] == [f, *request, f + 1, f + 2]
    # Every matching example with a history trains its item positions, a P2 one too.
    assert out["labels"][0] == [-100] + [-100] * len(request) + [f + 1, f + 2]
