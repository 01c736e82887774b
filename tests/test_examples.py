import numpy as np
import pytest

from instructrec_peft import DataError, TemplateError, leave_one_out
from instructrec_peft.instructions.examples import (
    ExampleConfig,
    build_examples,
    intention_phrases,
    preference_statement,
)

ALL_TASKS = {"pointwise": 1.0, "pairwise": 1.0, "matching": 1.0, "reranking": 1.0}


@pytest.fixture
def split(toy_log):
    return leave_one_out(toy_log)


def test_same_seed_same_dataset_other_seed_other_dataset(split, toy_catalog):
    config = dict(tasks=ALL_TASKS, num_candidates=4, examples_per_user=None)
    first = build_examples(split, toy_catalog, "train", ExampleConfig(seed=7, **config)).to_dict()
    again = build_examples(split, toy_catalog, "train", ExampleConfig(seed=7, **config)).to_dict()
    other = build_examples(split, toy_catalog, "train", ExampleConfig(seed=8, **config)).to_dict()
    assert first == again
    assert first != other
    test_a = build_examples(split, toy_catalog, "test", ExampleConfig(seed=7, **config)).to_dict()
    test_b = build_examples(split, toy_catalog, "test", ExampleConfig(seed=7, **config)).to_dict()
    assert test_a == test_b


def test_pointwise_answers_are_balanced(split, toy_catalog):
    config = ExampleConfig(tasks={"pointwise": 1}, examples_per_user=None)
    dataset = build_examples(split, toy_catalog, "train", config)
    # Train targets: u1 at positions 1, 2; u2 at 1; u3 has one train item (none); u4 (short) at 1.
    assert dataset["user"] == ["u1", "u1", "u2", "u4"]
    assert dataset["target"] == ["2", "3", "7", "2"]
    assert dataset["label"] == ["Yes", "No", "Yes", "No"]
    assert dataset["completion"] == ["Yes", "No", "Yes", "No"]
    for row in dataset:
        asked = row["candidates"][0]
        assert (asked == row["target"]) == (row["label"] == "Yes")
        assert toy_catalog.text(asked) in row["prompt"]


def test_negatives_are_never_items_the_user_touched(split, toy_catalog):
    dataset = build_examples(split, toy_catalog, "train",
                             ExampleConfig(tasks=ALL_TASKS, num_candidates=4, examples_per_user=None, seed=3))
    for row in dataset:
        touched = set(split.sequences[row["user"]])
        negatives = [c for c in row["candidates"] if c != row["target"]]
        assert not touched & set(negatives)
        assert len(set(row["candidates"])) == len(row["candidates"])
        if row["task"] == "reranking":
            assert len(row["candidates"]) == 4 and row["candidates"].count(row["target"]) == 1
            if row["label"] in "ABCD":
                assert row["candidates"]["ABCD".index(row["label"])] == row["target"]
        if row["task"] == "pairwise":
            assert len(row["candidates"]) == 2 and row["completion"] == toy_catalog.text(row["target"])
        if row["task"] == "matching":
            assert row["candidates"] == [] and row["completion"] == toy_catalog.text(row["target"])


def test_eval_rows_carry_the_loo_candidates(split, toy_catalog):
    dataset = build_examples(split, toy_catalog, "test", ExampleConfig(tasks=ALL_TASKS, num_candidates=5, seed=1))
    assert dataset["user"] == ["u1", "u2", "u3"]
    assert dataset["target"] == ["5", "9", "10"]
    for row in dataset:
        assert len(row["candidates"]) == 5 and row["candidates"].count(row["target"]) == 1
        assert not set(split.sequences[row["user"]]) & (set(row["candidates"]) - {row["target"]})


def test_exact_matching_example(split, toy_catalog):
    config = ExampleConfig(tasks={"matching": 1}, templates=["p1-i0-matching-1"], max_history_items=3,
                           num_candidates=4)
    row = build_examples(split, toy_catalog, "test", config)[0]
    assert row["prompt"] == ('The user watched the following movies, oldest first: "Heat (1995)", "Fargo (1996)", '
                             '"Up (2009)". Which movie will the user watch next?')
    assert row["completion"] == "Jaws (1975)"
    assert row["history"] == ["2", "3", "4"]
    assert (row["template"], row["task"], row["preference"], row["intention"]) == ("p1-i0-matching-1", "matching",
                                                                                   "P1", "I0")


def test_explicit_preference_and_intentions(split, toy_catalog):
    config = ExampleConfig(tasks={"matching": 1}, templates=["p2-i2-matching-1"], num_candidates=4)
    row = build_examples(split, toy_catalog, "test", config)[0]
    assert row["prompt"] == ('The user says: "I like Animation and Comedy movies. I dislike Crime movies." They '
                             'search for a Horror, Thriller movie. Which movie do you return?')
    assert row["history"] == []  # the template shows no history


def test_preference_statement_rules():
    cats = [["Comedy"], ["Comedy", "Drama"], ["Horror"], ["Drama"]]
    statement = preference_statement(cats, [5, 4, 1, 4], "movies")
    assert statement == "I like Comedy and Drama movies. I dislike Horror movies."
    assert preference_statement(cats, None, "movies") == "I mostly enjoy Comedy and Drama movies."
    assert preference_statement(cats, [3, 3, 3, 3], "movies") is None
    assert preference_statement([[]], None, "movies") is None


def test_intention_phrases():
    rng = np.random.default_rng(0)
    assert intention_phrases(["Comedy"], "movie", rng) == {"I2": "a Comedy movie", "I1": "something funny"}
    assert intention_phrases(["Action", "Thriller"], "movie", rng)["I2"] == "an Action, Thriller movie"
    assert intention_phrases(["Jazz"], "song", rng) == {"I2": "a Jazz song", "I1": "something in the style of Jazz"}
    assert intention_phrases([], "movie", rng) == {}


def test_targets_without_categories_skip_intention_templates(split, toy_catalog):
    toy_catalog._categories["5"] = []  # u1's test target loses its genres
    config = ExampleConfig(tasks={"matching": 1}, templates=["p1-i2-matching-1"], num_candidates=4)
    dataset = build_examples(split, toy_catalog, "test", config)
    assert dataset["user"] == ["u2", "u3"]


def test_history_budget_applies(split, toy_catalog):
    words = lambda text: len(text.split())  # noqa: E731
    config = ExampleConfig(tasks={"matching": 1}, templates=["p1-i0-matching-1"], num_candidates=4)
    dataset = build_examples(split, toy_catalog, "test", config, count_tokens=words, max_prompt_tokens=19)
    assert all(words(p) <= 19 for p in dataset["prompt"])
    assert dataset["history"][0] == ["3", "4"]  # u1 keeps only the two newest of four
    with pytest.raises(TemplateError, match="user 'u1', target '5'"):
        build_examples(split, toy_catalog, "test", config, count_tokens=words, max_prompt_tokens=5)


@pytest.mark.parametrize("kwargs, message", [
    ({"tasks": {"listwise": 1}}, "unknown task form 'listwise'"),
    ({"tasks": {"matching": 0}}, "weight of 'matching' must be > 0"),
    ({"tasks": {}}, "give at least one task form"),
    ({"tasks": {"pointwise": 1}, "templates": ["p1-i0-matching-1"]},
     "no template given for task form(s) ['pointwise']"),
    ({"templates": ["nope"]}, "unknown template 'nope'"),
    ({"num_candidates": 1}, "num_candidates must be >= 2"),
    ({"examples_per_user": 0}, "examples_per_user must be >= 1 or None"),
    ({"vocabulary": "music"}, "unknown vocabulary 'music'"),
    ({"liked_threshold": 2, "disliked_threshold": 2}, "disliked_threshold must be below liked_threshold"),
])
def test_config_is_validated(kwargs, message):
    with pytest.raises(ValueError) as err:
        ExampleConfig(**kwargs)
    assert message in str(err.value)


def test_too_few_negatives_is_an_error(split, toy_catalog):
    with pytest.raises(DataError, match="user 'u1' touched 5 of 12 items: fewer than 9 negatives"):
        build_examples(split, toy_catalog, "test", ExampleConfig(num_candidates=10))
