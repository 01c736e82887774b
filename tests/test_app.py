"""The app to try an adapter: its functions directly, and (slow) in a real headless browser."""

import json
import shutil
from pathlib import Path

import pytest

from instructrec_peft.errors import ArgumentError
from instructrec_peft.inference.app import build_app, recommend_rows, record_choice
from instructrec_peft.inference.recommender import Recommender


@pytest.fixture(scope="module")
def rec(tiny_assets, tmp_path_factory):
    from training_helpers import tiny_configs

    from instructrec_peft.config import DataArguments
    from instructrec_peft.models.workspace import load_log
    from instructrec_peft.training.tuning import run_tuning

    out = tmp_path_factory.mktemp("app") / "out"
    run_tuning(*tiny_configs(tiny_assets, out))
    catalog = load_log(DataArguments(dataset=tiny_assets["data"])).catalog
    rec = Recommender.from_pretrained(str(out), catalog=catalog)
    rec.feedback_path = str(out / "feedback.jsonl")
    return rec, [catalog.text(i) for i in catalog.texts]


def test_recommend_rows_rank_k_items_outside_the_history_with_reasons(rec):
    rec, items = rec
    liked = items[:3]
    rows = recommend_rows(rec, liked, "", k=4)
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    assert not {r[1] for r in rows} & set(liked) and {r[1] for r in rows} <= set(items)
    assert [r[2] for r in rows] == sorted((r[2] for r in rows), reverse=True)
    assert all(isinstance(r[3], str) and "\n" not in r[3] for r in rows)
    assert [r[3] for r in recommend_rows(rec, liked, "", k=2, explain=False)] == ["", ""]
    with pytest.raises(ArgumentError, match="pick at least one item"):
        recommend_rows(rec, [], "")


def test_record_choice_appends_to_the_feedback_log(rec):
    rec, items = rec
    assert record_choice(rec, items[5], False).startswith(f"Recorded: rejected {items[5]}")
    last = json.loads(Path(rec.feedback_path).read_text().splitlines()[-1])
    assert (last["user"], last["item"], last["accepted"]) == ("app", items[5], False)
    with pytest.raises(ArgumentError, match="choose one of the recommended items"):
        record_choice(rec, None, True)


def test_a_catalogue_file_reads_back_the_texts_and_categories(tmp_path):
    from instructrec_peft.data.interactions import ItemCatalog
    from instructrec_peft.inference.app import read_catalog

    lines = ['{"item_id": "7", "text": "Heat (1995)", "categories": ["Action", "Crime"]}',
             '{"item_id": "9", "text": "Babe (1995)", "categories": []}']
    (tmp_path / "catalog.jsonl").write_text("\n".join(lines) + "\n")
    catalog = read_catalog(str(tmp_path / "catalog.jsonl"))
    assert isinstance(catalog, ItemCatalog) and list(catalog.texts) == ["7", "9"]
    assert (catalog.text("7"), catalog.categories("7")) == ("Heat (1995)", ["Action", "Crime"])
    assert catalog.categories("9") == []
    (tmp_path / "bad.jsonl").write_text('{"item_id": "7", "title": "Heat"}\n')
    with pytest.raises(ArgumentError, match=r"bad.jsonl: a catalogue file needs .* missing \['categories', 'text'\]"):
        read_catalog(str(tmp_path / "bad.jsonl"))


def test_the_app_builds(rec):
    pytest.importorskip("gradio")
    rec, items = rec
    demo = build_app(rec, items, k=3, explain=False)
    ids = {block.elem_id for block in demo.blocks.values() if getattr(block, "elem_id", None)}
    assert {"liked", "intention", "recommend", "results", "chosen", "accept", "reject", "status"} <= ids


@pytest.mark.slow
def test_in_a_headless_browser_pick_three_recommend_and_reject(rec, tmp_path):
    """Chromium (Debian's) driven by Playwright: what a user does, end to end, and its screenshot."""
    pytest.importorskip("gradio")
    pytest.importorskip("playwright.sync_api")
    from benchmarks.app_browser import try_in_browser

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is missing: make test-slow installs it (apt-get install chromium)")
    rec, items = rec
    demo = build_app(rec, items, k=3, explain=False)
    demo.launch(server_port=7861, prevent_thread_lock=True, quiet=True)
    before = len(Path(rec.feedback_path).read_text().splitlines()) if Path(rec.feedback_path).exists() else 0
    try:
        shown = try_in_browser("http://127.0.0.1:7861", items[:3], chromium, k=3, screenshot=tmp_path / "app.png")
    finally:
        demo.close()
    assert len(shown) == 3 and not any(t in row for row in shown for t in items[:3])
    assert [row.split()[0] for row in shown] == ["1", "2", "3"]
    lines = Path(rec.feedback_path).read_text().splitlines()[before:]
    assert len(lines) == 1 and json.loads(lines[0])["accepted"] is False
    assert (tmp_path / "app.png").stat().st_size > 10_000


@pytest.fixture(scope="module")
def demo_adapter(tmp_path_factory):
    """The demo's item-token adapter: ``outputs/items-cpu`` after ``make demo``, else tuned here
    with its config (about 10 minutes on 2 cores)."""
    from instructrec_peft.config import parse_config
    from instructrec_peft.data.assets import fetch
    from instructrec_peft.run_dir import RunDir
    from instructrec_peft.training.tuning import run_tuning

    fetch()
    root = Path(__file__).parents[1]
    adapter = root / "outputs" / "items-cpu"
    if not RunDir(adapter).has_adapter():
        adapter = tmp_path_factory.mktemp("demo") / "items-cpu"
        run_tuning(*parse_config([str(root / "recipes" / "configs" / "items-cpu.yaml"), "--output_dir", str(adapter)]))
    return adapter


@pytest.mark.slow
def test_in_a_headless_browser_the_intention_box_moves_the_top_k_to_the_genre(demo_adapter, tmp_path):
    """What the user types in the intention box reaches the demo adapter: after Star Wars and Alien
    the top 5 holds no comedy; asked for "a Comedy movie" (the wording of I2 requests), most of it
    is comedies (4 of 5 for the demo's adapter when this test was written)."""
    pytest.importorskip("gradio")
    pytest.importorskip("playwright.sync_api")
    from benchmarks.app_browser import try_in_browser
    from instructrec_peft.inference.app import load_recommender

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is missing: make test-slow installs it (apt-get install chromium)")
    rec, items = load_recommender(str(demo_adapter), feedback=str(tmp_path / "feedback.jsonl"))
    genres = {rec.label(i): rec.item_tokens.categories_of(i) for i in rec.item_tokens.items}
    demo = build_app(rec, items, k=5, explain=False)
    demo.launch(server_port=7862, prevent_thread_lock=True, quiet=True)
    liked = ["Star Wars (1977)", "Alien (1979)"]
    try:
        plain, asked = [try_in_browser("http://127.0.0.1:7862", liked, chromium, k=5, intention=said, reject=False)
                        for said in ("", "a Comedy movie")]
    finally:
        demo.close()

    def comedies(rows):  # a row's cells, one per line: rank, item, score (no reasons here)
        return [row.split("\n")[1] for row in rows if "Comedy" in genres[row.split("\n")[1]]]

    assert comedies(plain) == [] and len(comedies(asked)) >= 3, (plain, asked)
