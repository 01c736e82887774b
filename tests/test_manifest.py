import json

import pytest

from instructrec_peft import TemplateError, templates
from instructrec_peft.instructions.manifest import Manifest
from instructrec_peft.run_dir import RunDir

CUSTOM = {"name": "shop-next", "preference": "P1", "intention": "I0", "task": "matching",
          "prompt": "Bought {history}. Next {noun}?", "response": "{target}", "source": "user"}


@pytest.fixture
def scratch_registry(monkeypatch):
    monkeypatch.setattr(templates, "TEMPLATES", dict(templates.TEMPLATES))


def test_round_trip_and_registration(tmp_path, scratch_registry):
    manifest = Manifest(templates=[CUSTOM, templates.get_template("p1-i0-matching-1").to_dict()],
                        eval_template="shop-next", vocabulary="product", base_model="org/base")
    path = manifest.save(tmp_path)
    assert path == tmp_path / RunDir.MANIFEST and sorted(p.name for p in tmp_path.iterdir()) == [RunDir.MANIFEST]
    loaded = Manifest.load(tmp_path)
    assert loaded == manifest
    registered = loaded.register()
    assert [t.name for t in registered] == ["shop-next", "p1-i0-matching-1"]
    assert templates.get_template("shop-next").prompt == "Bought {history}. Next {noun}?"


def test_a_manifest_cannot_silently_reword_a_registered_template(tmp_path, scratch_registry):
    reworded = {**templates.get_template("p1-i0-matching-1").to_dict(), "prompt": "Saw {history}. Next {noun}?"}
    with pytest.raises(TemplateError, match="template 'p1-i0-matching-1' in the manifest differs"):
        Manifest(templates=[reworded], eval_template="p1-i0-matching-1").register()


def test_malformed_manifests_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no template manifest"):
        Manifest.load(tmp_path)
    (tmp_path / RunDir.MANIFEST).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        Manifest.load(tmp_path)
    (tmp_path / RunDir.MANIFEST).write_text(json.dumps({"templates": [], "eval_template": "x", "code": "import os"}))
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['code'\]"):
        Manifest.load(tmp_path)
    bad = {**CUSTOM, "prompt": "Bought {history.__class__}."}
    with pytest.raises(TemplateError, match="is not a bare name"):
        Manifest(templates=[bad], eval_template="shop-next").register()


def test_an_item_map_with_categories_round_trips_and_checks_them():
    from instructrec_peft.instructions.item_tokens import ItemTokens

    tokens = ItemTokens.create(["1", "2"], ["A", "B"], 10, [["Comedy"], []])
    assert ItemTokens.from_dict(tokens.to_dict()) == tokens
    assert tokens.extend(["3"], ["C"]).categories == [["Comedy"], [], []]
    plain = ItemTokens.create(["1", "2"], ["A", "B"], 10)
    assert plain.extend(["3"], ["C"], [["War"]]).categories == [[], [], ["War"]]
    with pytest.raises(ValueError, match="categories must be a list of lists of strings"):
        ItemTokens.from_dict({**tokens.to_dict(), "categories": ["Comedy", "War"]})
    with pytest.raises(ValueError, match="2 items but 1 category lists"):
        ItemTokens.create(["1", "2"], ["A", "B"], 10, [["Comedy"]])
