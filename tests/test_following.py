"""The instruction-following probes: requests fixed from the split before any model runs."""

import numpy as np

from instructrec_peft.data.split import leave_one_out
from instructrec_peft.evaluation.following import (
    category_share,
    control_requests,
    exclusion_requests,
    intention_requests,
    popular_in,
    top_k_untouched,
)
from instructrec_peft.evaluation.paraphrases import heldout_phrasings


def test_intention_requests_state_the_test_target(toy_log):
    split = leave_one_out(toy_log)
    requests = intention_requests(split, toy_log.catalog, split.evaluated, seed=0)
    assert [r.user for r in requests] == split.evaluated
    phrasings = heldout_phrasings()
    for r in requests:
        assert r.target == split.target(r.user, "test") and r.history == split.history(r.user, "test")
        assert r.categories == toy_log.catalog.categories(r.target) and r.one in r.categories
        assert r.wordings["paraphrase"] in phrasings[r.one]
        assert r.ask("I2") == {"history": r.history, "intention": r.wordings["I2"]}
        assert r.ask(None)["intention"] is None
    first = requests[0]  # u1: test target "5", Horror|Thriller
    assert (first.target, first.wordings["I2"]) == ("5", "a Horror, Thriller movie")
    again = intention_requests(split, toy_log.catalog, split.evaluated, seed=0)
    assert [r.wordings for r in again] == [r.wordings for r in requests]  # fixed by the seed


def test_control_asks_for_the_least_watched_category(toy_log):
    split = leave_one_out(toy_log)
    # Categories with >= 2 items: Comedy (4); Crime, Drama, Thriller (3); Horror, Sci-Fi (2). u2's
    # test history (6: Drama; 7: Children's|Comedy; 8: Crime|Thriller) never touched Horror or Sci-Fi.
    asks = [control_requests(split, toy_log.catalog, ["u2"], min_items=2, seed=s)[0] for s in range(12)]
    assert {a["category"] for a in asks} == {"Horror", "Sci-Fi"} and {a["watched"] for a in asks} == {0}
    assert {a["intention"] for a in asks} == {"a Horror movie", "a Sci-Fi movie"}
    # With >= 3 items, every category in the pool was watched once: the tie is drawn among all four.
    tied = {control_requests(split, toy_log.catalog, ["u2"], min_items=3, seed=s)[0]["category"] for s in range(30)}
    assert tied == {"Comedy", "Crime", "Drama", "Thriller"}


def test_top_k_share_and_popular_items(toy_log):
    split = leave_one_out(toy_log)
    items = list(toy_log.catalog.texts)
    scores = np.arange(len(items), dtype=float)  # item "12" best, then "11", ...
    assert top_k_untouched(scores, items, ["12", "10"], k=3) == ["11", "9", "8"]
    assert category_share(toy_log.catalog, ["11", "9", "8"], "Sci-Fi") == 1 / 3
    # Train interactions: "1" and "2" twice (u1, u4); the Thrillers "5" and "8" never (ties by id).
    assert popular_in(split, toy_log.catalog, "Thriller", [], k=2) == ["2", "5"]
    assert popular_in(split, toy_log.catalog, "Thriller", ["2"], k=3) == ["5", "8"]


def test_exclusion_names_the_most_frequent_category_of_the_top_10(toy_log):
    tops = {"u1": ["2", "5", "8"], "u2": ["6"]}
    asks = exclusion_requests(toy_log.catalog, tops, {"u1": ["1"], "u2": ["7"]})
    assert [(a["user"], a["category"], a["not"], a["dislike"]) for a in asks] == [
        ("u1", "Thriller", "not Thriller", "I dislike Thriller movies."), ("u2", "Drama", "not Drama",
                                                                         "I dislike Drama movies.")]
