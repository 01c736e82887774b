import json

import pytest

from benchmarks.report_store import SectionStore
from instructrec_peft.errors import ArgumentError


def _render(data: dict) -> str:
    return "\n".join(f"{k}: {v['value']}" for k, v in sorted(data.items()) if isinstance(v, dict)) + "\n"


def test_each_section_is_kept_and_a_rerun_replaces_only_itself(tmp_path):
    report = tmp_path / "report.md"
    store = SectionStore(report, _render)
    store.data["machine"] = "test"
    store.run("a", lambda: {"value": 1}, command="run a")
    saved = json.loads(report.with_suffix(".json").read_text())
    assert saved["a"]["value"] == 1 and saved["a"]["command"] == "run a" and saved["a"]["minutes"] >= 0
    assert report.read_text() == "a: 1\n"
    again = SectionStore(report, _render)  # a later session: "a" is read back, "b" added
    again.run("b", lambda: {"value": 2})
    assert report.read_text() == "a: 1\nb: 2\n" and again.data["machine"] == "test"
    again.run("a", lambda: {"value": 3})
    assert report.read_text() == "a: 3\nb: 2\n"


def test_a_failing_section_keeps_the_finished_ones(tmp_path):
    report = tmp_path / "report.md"
    store = SectionStore(report, _render)
    store.run("a", lambda: {"value": 1})
    with pytest.raises(ZeroDivisionError):
        store.run("b", lambda: {"value": 1 / 0})
    assert set(json.loads(report.with_suffix(".json").read_text())) == {"a"}


def test_rerender_needs_stored_results_and_fresh_ignores_them(tmp_path):
    report = tmp_path / "report.md"
    with pytest.raises(ArgumentError, match="no results to render"):
        SectionStore(report, _render).rerender()
    SectionStore(report, _render).run("a", lambda: {"value": 1})
    report.write_text("stale")
    SectionStore(report, _render).rerender()
    assert report.read_text() == "a: 1\n"
    assert SectionStore(report, _render, fresh=True).data == {}
