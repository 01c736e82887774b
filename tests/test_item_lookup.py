"""Items found as people type them: case, articles, the year, ambiguity and "did you mean"."""

import pytest

from instructrec_peft.data.item_lookup import ItemLookup, name_key
from instructrec_peft.errors import ArgumentError

CATALOG = [("593", "Silence of the Lambs, The (1991)"), ("1", "Toy Story (1995)"), ("3114", "Toy Story 2 (1999)"),
           ("6", "Heat (1995)"), ("h72", "Heat (1972)"), ("1234", "Chairman of the Board (1998)"),
           ("1654", "Chairman of the Board (1998)"), ("l1", "Cité des enfants perdus, La (1995)")]


@pytest.mark.parametrize("text, key", [
    ("Silence of the Lambs, The (1991)", ("the silence of the lambs", "1991")),
    ("  the SILENCE of the lambs ", ("the silence of the lambs", None)),
    ("Cité des enfants perdus, La (1995)", ("la cité des enfants perdus", "1995")),
    ("Homme, L' (1990)", ("l'homme", "1990")),
    ("Star Wars: Episode IV (1977)", ("star wars episode iv", "1977")),
])
def test_a_name_key_folds_case_punctuation_and_the_moved_article(text, key):
    assert name_key(text) == key


@pytest.mark.parametrize("typed, item", [
    ("Silence of the Lambs, The (1991)", "593"),       # as the catalogue spells it
    ("The Silence of the Lambs (1991)", "593"),        # the article in front
    ("the silence of the lambs", "593"),               # no year: one film has that name
    ("toy story", "1"), ("Toy Story 2", "3114"),
    ("heat (1972)", "h72"),                            # the year tells two films apart
    ("La Cité des Enfants Perdus", "l1"),
])
def test_items_are_found_as_typed(typed, item):
    assert ItemLookup(CATALOG).find(typed) == item


def test_ambiguous_and_unknown_names_say_what_to_do():
    lookup = ItemLookup(CATALOG)
    with pytest.raises(ArgumentError) as err:
        lookup.find("heat")
    assert str(err.value) == ("'heat' may be any of 2 items ('Heat (1995)', 'Heat (1972)'; ids '6', 'h72'); give the "
                              "year or the item id")
    with pytest.raises(ArgumentError) as err:
        lookup.find("Chairman of the Board (1998)")
    assert str(err.value) == ("'Chairman of the Board (1998)' is the text of 2 items (ids '1234', '1654'); give the "
                              "item id instead")
    with pytest.raises(ArgumentError) as err:
        lookup.find("Silence of the Lamb", known="the adapter's 8 items")
    assert str(err.value) == ("unknown item 'Silence of the Lamb': neither an item id nor an item text of the "
                              "adapter's 8 items; did you mean 'Silence of the Lambs, The (1991)'?")
    assert lookup.suggest("Toy Stor") == "; did you mean 'Toy Story (1995)', 'Toy Story 2 (1999)'?"
    assert lookup.suggest("qqqqqq") == ""

