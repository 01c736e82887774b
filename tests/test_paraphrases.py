"""Held-out phrasings stay out of training, and the keyword-filter baselines rank as stated."""

import re

import numpy as np
import pytest

from instructrec_peft.errors import ArgumentError, DataError
from instructrec_peft.evaluation.category_filter import category_matches, filter_first
from instructrec_peft.evaluation.paraphrases import MIN_PHRASINGS, heldout_phrasings
from instructrec_peft.instructions.requests import MOODS, WORDINGS

ML100K_GENRES = ["Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
                 "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
                 "Western"]


def test_every_genre_has_its_heldout_phrasings():
    phrasings = heldout_phrasings()
    assert sorted(phrasings) == sorted(ML100K_GENRES)
    assert all(len(p) >= MIN_PHRASINGS for p in phrasings.values())
    assert sum(map(len, phrasings.values())) == 90


def test_no_training_wording_is_a_heldout_phrasing():
    # Training states intentions as the I1 moods and other wordings, the I2 form "a <categories>
    # <noun>" and the requests' "I like <category> movies" and "not <category>": none may equal, contain or sit
    # inside a held-out phrasing, so a score on them measures reading.
    training = [m.lower() for m in MOODS.values()] + [f"a {g.lower()} movie" for g in ML100K_GENRES] + \
        [f"i like {g.lower()} movies" for g in ML100K_GENRES] + [f"not {g.lower()}" for g in ML100K_GENRES] + \
        [w.lower() for ws in WORDINGS.values() for w in ws]
    for category, phrases in heldout_phrasings().items():
        for phrase in phrases:
            text = phrase.lower()
            assert not [t for t in training if t in text or text in t], (category, phrase)
            assert not re.search(rf"\b{re.escape(category.lower())}\b", text), (category, phrase)


def test_training_examples_never_hold_a_heldout_phrasing(toy_log):
    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.instructions.examples import ExampleConfig, build_examples
    from instructrec_peft.instructions.templates import select

    names = [t.name for t in select(preference="P1", intention="I1")] + \
        [t.name for t in select(preference="P1", intention="I2")]
    rows = build_examples(leave_one_out(toy_log), toy_log.catalog, "train",
                          ExampleConfig(templates=names, examples_per_user=None, tasks={"matching": 1.0},
                                        request_rate=1.0, seed=0))
    prompts = " ".join(rows["prompt"]).lower()
    assert any(m.lower() in prompts for m in MOODS.values())  # the intentions are in there
    assert "] " in prompts or "]" in prompts and " [" in prompts  # and the in-history requests
    assert not [p for ps in heldout_phrasings().values() for p in ps if p.lower() in prompts]


def test_a_malformed_phrasing_file_is_refused(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"phrasings": {"Comedy": ["a few laughs", "jokes", "gags", "puns", "a comedy night"]}}')
    with pytest.raises(DataError, match=r"'Comedy': 'a comedy night' names the category"):
        heldout_phrasings(path)
    path.write_text('{"phrasings": {"Comedy": ["a few laughs"]}}')
    with pytest.raises(DataError, match=r"'Comedy' has 1 phrasings, fewer than 5"):
        heldout_phrasings(path)


def test_filter_first_ranks_matches_first_and_keeps_each_groups_order():
    scores = np.array([3.0, 1.0, 2.0, 0.0, -np.inf])
    out = filter_first(scores, np.array([False, True, False, True, True]))
    assert out.tolist()[:4] == [3.0, 5.0, 2.0, 4.0] and out[4] == -np.inf
    assert np.argsort(-out, kind="stable").tolist() == [1, 3, 0, 2, 4]


def test_category_matches_exact_and_overlap(toy_catalog):
    items = list(toy_catalog.texts)
    cats = {i: set(toy_catalog.categories(i)) for i in items}
    some = next(i for i in items if cats[i])
    stated = sorted(cats[some])
    exact = category_matches(toy_catalog, items, stated, "exact")
    overlap = category_matches(toy_catalog, items, stated[:1], "overlap")
    assert exact.tolist() == [cats[i] == set(stated) for i in items]
    assert overlap.tolist() == [stated[0] in cats[i] for i in items]
    with pytest.raises(ArgumentError, match=r"unknown category \['cartoons'\]; the catalogue's are \["):
        category_matches(toy_catalog, items, ["Cartoons"])
