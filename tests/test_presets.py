"""The published layouts, each written here in its exact format (MovieLens' latin-1 titles, '::'
separators and genre flags; Amazon's millisecond timestamps, nested category paths and Python-literal
lines; Goodreads' dates and shelves; Steam's Python-literal lines), loaded, split and turned into
examples of every task form whose intentions name real categories."""

import re
from pathlib import Path

import pytest

from instructrec_peft import DataError, leave_one_out
from instructrec_peft.config import DataArguments
from instructrec_peft.data.presets import load_preset
from instructrec_peft.instructions.examples import ExampleConfig, build_examples
from instructrec_peft.models.workspace import load_log

# A Python list or dict written into a prompt ("['Horror']"); a bracketed request ("[Horror]") is a template's.
LITERAL_REPR = re.compile(r"[\[{]['\"]")

ROOT = Path(__file__).resolve().parents[1]
TITLES = ["Toy Story (1995)", "Amélie (2001)", "Heat (1995)", "Alien (1979)", "Fargo (1996)", "Jaws (1975)",
          "Babe (1995)", "Clue (1985)", "Ran (1985)", "Tron (1982)"]
GENRES = [["Animation", "Comedy"], ["Comedy", "Romance"], ["Crime", "Thriller"], ["Horror", "Sci-Fi"],
          ["Crime", "Drama"], ["Horror"], ["Children's", "Comedy"], ["Comedy", "Mystery"], ["Drama", "War"],
          ["Action", "Sci-Fi"]]
ML100K = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western")
# Four users, five ratings each, seconds since the epoch.
RATINGS = [(u, 1 + (u + k) % 10, 1 + (u * k) % 5, 881250949 + 100 * u + k) for u in range(1, 5) for k in range(5)]


def write_100k(folder):
    folder.mkdir()
    (folder / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in RATINGS))
    lines = [f"{i}|{t}|01-Jan-1995||http://us.imdb.com/x|" + "|".join("1" if g in genres else "0" for g in ML100K)
             for i, (t, genres) in enumerate(zip(TITLES, GENRES), start=1)]
    (folder / "u.item").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))


def write_1m(folder):
    folder.mkdir()
    (folder / "ratings.dat").write_text("".join(f"{u}::{i}::{r}::{t}\n" for u, i, r, t in RATINGS))
    lines = [f"{i}::{t}::{'|'.join(g)}" for i, (t, g) in enumerate(zip(TITLES, GENRES), start=1)]
    (folder / "movies.dat").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))


def write_20m(folder):
    folder.mkdir()
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n"
                                        + "".join(f"{u},{i},{r}.0,{t}\n" for u, i, r, t in RATINGS))
    lines = [f'{i},"{t}",{"|".join(g)}' for i, (t, g) in enumerate(zip(TITLES, GENRES), start=1)]
    (folder / "movies.csv").write_text("movieId,title,genres\n" + "\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("write", [write_100k, write_1m, write_20m], ids=["ml-100k raw", "ml-1m", "ml-20m"])
def test_movielens_layouts_load_split_and_build_every_task_form(tmp_path, write):
    folder = tmp_path / "ml"
    write(folder)
    log = load_preset("movielens", folder)
    assert len(log.interactions) == len(RATINGS) and log.report.users == 4
    assert [log.catalog.text(str(i)) for i in range(1, 11)] == TITLES  # latin-1 "Amélie" read right
    assert [log.catalog.categories(str(i)) for i in range(1, 11)] == GENRES
    split = leave_one_out(log)
    config = ExampleConfig(tasks={"pointwise": 1, "pairwise": 1, "matching": 1, "reranking": 1}, num_candidates=3,
                           examples_per_user=None, seed=0)
    rows = build_examples(split, log.catalog, "train", config)
    assert set(rows["task"]) == {"pointwise", "pairwise", "matching", "reranking"}
    genres = {g for gs in GENRES for g in gs}
    intentions = [r["prompt"] for r in rows if r["intention"] == "I2"]
    assert intentions and all(any(g in p for g in genres) for p in intentions)
    assert not any("[" in p for p in rows["prompt"])  # no list reprs in any prompt
    # The same through a config, as recipes/tune.py reads it.
    assert len(load_log(DataArguments(dataset=str(folder), data_preset="movielens")).interactions) == len(RATINGS)


def test_a_folder_without_movielens_files_and_an_unknown_preset_are_errors(tmp_path):
    with pytest.raises(DataError, match="no MovieLens files"):
        load_preset("movielens", tmp_path)
    with pytest.raises(DataError, match="unknown data preset 'amazon'"):
        load_preset("amazon", tmp_path)
    with pytest.raises(ValueError, match="DataArguments.data_preset: 'amazon' is not one of"):
        DataArguments(data_preset="amazon")


def test_recipes_tune_runs_on_a_preset(tiny_assets, tmp_path):
    """recipes/tune.py end to end on the Goodreads layout, with a tiny model and budget."""
    import importlib.util
    import json

    from training_helpers import yaml_config

    folder = tmp_path / "goodreads"
    write_goodreads(folder, with_genres=False)
    out = tmp_path / "out"
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml_config(tiny_assets, out, dataset=str(folder), data_preset="goodreads", max_steps=1))
    spec = importlib.util.spec_from_file_location("tune_recipe", ROOT / "recipes" / "tune.py")
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    assert recipe.main([str(config), "--eval_strategy", "no"]) == 0
    assert (out / "adapter_model.safetensors").is_file()
    saved = json.loads((out / "instructrec_config.json").read_text())["data"]
    assert (saved["data_preset"], saved["vocabulary"]) == ("goodreads", "book")
    manifest = (out / "instructrec_manifest.json").read_text()
    assert "book" in manifest and "movie" not in manifest.replace("movielens", "")


def _amazon_users(item_ids, time_scale):
    # Six users, five reviews each, over ten items: enough for every task form with 3 candidates.
    return [(f"A{u}", item_ids[(u + k) % len(item_ids)], 1 + (u + k) % 5, (1388620800 + 1000 * u + k) * time_scale)
            for u in range(6) for k in range(5)]


def write_amazon_2023(folder):
    import gzip
    import json

    folder.mkdir()
    asins = [f"B0{i}" for i in range(10)]
    with gzip.open(folder / "Movies_and_TV.jsonl.gz", "wt") as handle:
        for user, asin, rating, ms in _amazon_users(asins, 1000):
            handle.write(json.dumps({"rating": float(rating), "title": "ok", "text": "fine", "images": [],
                                     "asin": asin, "parent_asin": asin, "user_id": user, "timestamp": ms,
                                     "helpful_vote": 0, "verified_purchase": True}) + "\n")
        # A review of an item whose metadata has no title: the item cannot be shown, the review goes.
        handle.write(json.dumps({"rating": 5.0, "parent_asin": "B0X", "user_id": "A0", "timestamp": 1388620800000,
                                 "asin": "B0X", "text": "", "images": []}) + "\n")
    with gzip.open(folder / "meta_Movies_and_TV.jsonl.gz", "wt") as handle:
        for i, asin in enumerate(asins):
            categories = [] if i == 0 else ["Movies & TV", GENRES[i][0]]
            handle.write(json.dumps({"main_category": "Movies & TV", "title": TITLES[i], "store": "Studio",
                                     "categories": categories, "details": {}, "parent_asin": asin,
                                     "price": None, "features": []}) + "\n")
        handle.write(json.dumps({"main_category": "Movies & TV", "title": "", "parent_asin": "B0X",
                                 "categories": []}) + "\n")


def write_amazon_2018(folder):
    import gzip
    import json

    folder.mkdir()
    asins = [f"B0{i}" for i in range(10)]
    with gzip.open(folder / "Movies_and_TV_5.json.gz", "wt") as handle:
        for user, asin, rating, seconds in _amazon_users(asins, 1):
            handle.write(json.dumps({"overall": float(rating), "verified": True, "reviewTime": "01 2, 2014",
                                     "reviewerID": user, "asin": asin, "style": {"Format:": " DVD"},
                                     "reviewerName": "x", "reviewText": "fine", "summary": "ok",
                                     "unixReviewTime": seconds}) + "\n")
    with gzip.open(folder / "meta_Movies_and_TV.json.gz", "wt") as handle:
        for i, asin in enumerate(asins):
            handle.write(json.dumps({"category": ["Movies & TV", GENRES[i][0]], "description": [], "title": TITLES[i],
                                     "brand": "Studio", "asin": asin, "also_buy": [], "rank": "1 in Movies"}) + "\n")


def write_amazon_2014(folder):
    import gzip
    import json

    folder.mkdir()
    asins = [f"B0{i}" for i in range(10)]
    with gzip.open(folder / "reviews_Movies_and_TV_5.json.gz", "wt") as handle:
        for user, asin, rating, seconds in _amazon_users(asins, 1):
            handle.write(json.dumps({"reviewerID": user, "asin": asin, "reviewerName": "x", "helpful": [0, 0],
                                     "reviewText": "fine", "overall": float(rating), "summary": "ok",
                                     "unixReviewTime": seconds, "reviewTime": "01 2, 2014"}) + "\n")
    with gzip.open(folder / "meta_Movies_and_TV.json.gz", "wt") as handle:
        for i, asin in enumerate(asins):  # Python-literal lines, as the 2014 files are
            handle.write(repr({"asin": asin, "title": TITLES[i], "categories": [["Movies & TV", "Movies",
                                                                                     GENRES[i][0]]],
                               "salesRank": {"Movies & TV": i + 1}}) + "\n")


@pytest.mark.parametrize("preset, write, first, times", [
    ("amazon-2023", write_amazon_2023, ["Movies & TV"], "timestamp: numbers read as milliseconds"),
    ("amazon-2018", write_amazon_2018, ["Movies & TV", "Animation"], "unixReviewTime: numbers read as seconds"),
    ("amazon-2014", write_amazon_2014, ["Movies & TV", "Movies", "Animation"],
     "unixReviewTime: numbers read as seconds")])
def test_amazon_layouts_load_with_real_category_names(tmp_path, preset, write, first, times):
    folder = tmp_path / "amazon"
    write(folder)
    log = load_preset(preset, folder)
    assert len(log.interactions) == 30 and log.report.users == 6
    assert log.report.times == f"{times}, 2014-01-02 to 2014-01-02" and log.report.warnings == []
    assert log.report.unknown_items == (1 if preset == "amazon-2023" else 0)  # the untitled item's review
    assert log.catalog.categories("B00") == first  # 2023: main_category when categories is empty
    assert log.catalog.text("B01").startswith("Amélie (2001)")
    split = leave_one_out(log)
    config = ExampleConfig(tasks={"matching": 1, "reranking": 1}, vocabulary="product", num_candidates=3,
                           examples_per_user=None, seed=0)
    rows = build_examples(split, log.catalog, "train", config)
    intentions = [r["prompt"] for r in rows if r["intention"] == "I2"]
    assert intentions and not any(LITERAL_REPR.search(p) for p in rows["prompt"])
    assert all(any(g[0] in p or "Movies & TV" in p for g in GENRES) for p in intentions)
    assert DataArguments(data_preset=preset).vocabulary == "product"
    assert DataArguments(data_preset=preset, vocabulary="movie").vocabulary == "movie"


def test_amazon_leaf_categories_through_a_config(tmp_path):
    folder = tmp_path / "amazon"
    write_amazon_2014(folder)
    log = load_log(DataArguments(dataset=str(folder), data_preset="amazon-2014", category_path="leaf"))
    assert [log.catalog.categories(f"B0{i}") for i in range(3)] == [["Animation"], ["Comedy"], ["Crime"]]


def every_task_form(log, vocabulary, labels):
    """Examples of every task form from ``log``; the I2 intentions name some of ``labels``."""
    split = leave_one_out(log)
    config = ExampleConfig(tasks={"pointwise": 1, "pairwise": 1, "matching": 1, "reranking": 1}, num_candidates=3,
                           examples_per_user=None, vocabulary=vocabulary, seed=0)
    rows = build_examples(split, log.catalog, "train", config)
    assert set(rows["task"]) == {"pointwise", "pairwise", "matching", "reranking"}
    intentions = [r["prompt"] for r in rows if r["intention"] == "I2"]
    assert intentions and all(any(label in p for label in labels) for p in intentions)
    assert not any(LITERAL_REPR.search(p) or "{" in p for p in rows["prompt"])  # no list, dict or placeholder left
    return rows


SHELVES = [["fantasy", "young-adult"], ["romance", "classics"], ["mystery", "crime"], ["horror", "thriller"],
           ["science-fiction", "dystopia"], ["history", "biography"], ["poetry", "classics"], ["humor", "comics"],
           ["war", "history"], ["graphic-novels", "manga"]]


def write_goodreads(folder, with_genres):
    import gzip
    import json

    folder.mkdir()
    book_ids = [str(5333265 + i) for i in range(10)]
    with gzip.open(folder / "goodreads_interactions_comics_graphic.json.gz", "wt") as handle:
        for u in range(6):
            for k in range(5):
                day = 1 + u + k
                handle.write(json.dumps({
                    "user_id": f"8842281e1d1347389f2ab93d60773d4{u}", "book_id": book_ids[(u + k) % 10],
                    "review_id": f"r{u}{k}", "is_read": k % 2 == 0, "rating": (u + k) % 6,
                    "review_text_incomplete": "", "date_added": f"Mon Aug {day:02d} 13:41:57 -0700 2016",
                    "date_updated": "Mon Aug 01 13:41:57 -0700 2016", "read_at": "", "started_at": ""}) + "\n")
    with gzip.open(folder / "goodreads_books_comics_graphic.json.gz", "wt") as handle:
        for i, book in enumerate(book_ids):
            shelves = [{"count": "900", "name": "to-read"}, {"count": "40", "name": "2016-reads"}]
            shelves += [{"count": str(30 - n), "name": name} for n, name in enumerate(SHELVES[i])]
            shelves += [{"count": "5", "name": "owned"}]
            handle.write(json.dumps({
                "isbn": "", "text_reviews_count": "1", "series": [], "country_code": "US", "language_code": "",
                "popular_shelves": shelves, "asin": "", "is_ebook": "false", "average_rating": "4.00",
                "similar_books": [], "description": "A book.", "format": "Paperback", "authors": [
                    {"author_id": "604031", "role": ""}], "publisher": "", "num_pages": "256",
                "publication_year": "" if i == 1 else str(2000 + i), "book_id": book, "work_id": "5400751",
                "title": TITLES[i].rsplit(" (", 1)[0], "title_without_series": TITLES[i]}) + "\n")
    if with_genres:
        with gzip.open(folder / "goodreads_book_genres_initial.json.gz", "wt") as handle:
            for i, book in enumerate(book_ids):
                handle.write(json.dumps({"book_id": book, "genres": {"comics, graphic": 3,
                                                                     "history, historical fiction, biography": i}})
                             + "\n")


@pytest.mark.parametrize("with_genres", [False, True], ids=["shelves", "genres file"])
def test_goodreads_reads_dates_shelves_or_genres_and_unrated_shelvings(tmp_path, with_genres):
    folder = tmp_path / "goodreads"
    write_goodreads(folder, with_genres)
    log = load_preset("goodreads", folder)
    assert len(log.interactions) == 30 and log.report.users == 6 and log.report.warnings == []
    assert log.report.times == "date_added: dates (%a %b %d %H:%M:%S %z %Y), 2016-08-01 to 2016-08-10"
    first = log.interactions[log.interactions["user_id"].str.endswith("0")].iloc[0]
    assert first["timestamp"] == 1470084117.0  # Aug 01 13:41:57 -0700 = 20:41:57 UTC
    assert first["rating"] != first["rating"]  # rating 0: shelved, not rated (NaN), not the worst rating
    assert log.interactions["rating"].dropna().between(1, 5).all()
    assert (log.catalog.text("5333265"), log.catalog.text("5333266")) == ("Toy Story (2000)", "Amélie")
    if with_genres:
        assert log.catalog.categories("5333267") == ["comics", "graphic", "history", "historical fiction",
                                                     "biography"]
        labels = ["comics", "graphic", "history"]
    else:  # the genre shelves, reading-status, dated and ownership shelves left out
        assert log.catalog.categories("5333267") == ["mystery", "crime"]
        labels = [name for names in SHELVES for name in names]
    every_task_form(log, "book", labels)
    assert DataArguments(data_preset="goodreads").vocabulary == "book"


GAME_GENRES = [["Action", "Indie"], ["Strategy"], [], ["RPG"], ["Casual", "Simulation"], ["Racing"],
               ["Sports"], ["Adventure"], ["Puzzle"], ["Action"]]


def write_steam(folder):
    import gzip

    folder.mkdir()
    ids = [str(761140 + i) for i in range(10)]
    with gzip.open(folder / "steam_games.json.gz", "wt") as handle:
        for i, game in enumerate(ids):  # Python-literal lines, as published
            row = {"publisher": "Kotoshiro", "genres": GAME_GENRES[i], "app_name": f"Game {i}",
                   "title": f"Game {i}", "url": "http://store.steampowered.com/app/x", "release_date": "2018-01-04",
                   "tags": ["Strategy", "Co-op"], "discount_price": 4.49, "price": 4.99, "early_access": False,
                   "id": game, "developer": "Kotoshiro", "sentiment": "Mostly Positive", "metascore": 80}
            if i == 2:
                del row["genres"]  # some games have tags only
            if i == 3:
                del row["app_name"]  # some have a title only
            handle.write(repr(row) + "\n")
        handle.write(repr({"title": "No id", "genres": ["Action"]}) + "\n")  # a record without an id
    with gzip.open(folder / "steam_reviews.json.gz", "wt") as handle:
        for u in range(6):
            for k in range(5):
                handle.write(repr({"username": f"player {u}", "hours": 0.1 * k, "products": 41,
                                   "product_id": ids[(u + k) % 10], "page_order": k, "date": f"2017-12-{10 + k}",
                                   "text": "It's \"fun\"", "early_access": False, "page": 1}) + "\n")


def test_steam_reads_python_literal_lines_without_ratings(tmp_path):
    folder = tmp_path / "steam"
    write_steam(folder)
    log = load_preset("steam", folder)
    assert len(log.interactions) == 30 and log.report.users == 6 and not log.has_ratings
    assert log.report.times == "date: dates (ISO 8601), 2017-12-10 to 2017-12-14"
    assert len(log.catalog) == 10 and log.catalog.text("761143") == "Game 3"
    assert log.catalog.categories("761140") == ["Action", "Indie"]
    assert log.catalog.categories("761142") == ["Strategy", "Co-op"]  # tags when there are no genres
    every_task_form(log, "game", [g for gs in GAME_GENRES for g in gs] + ["Strategy", "Co-op"])
    assert DataArguments(data_preset="steam").vocabulary == "game"


def test_a_preset_needs_a_folder_with_its_files(tmp_path):
    with pytest.raises(DataError, match=r"data preset 'steam': .*nope is not a folder"):
        load_preset("steam", tmp_path / "nope")
    (tmp_path / "g").mkdir()
    with pytest.raises(DataError, match=r"expected one books file \(goodreads_books\*\.json or "
                                        r"goodreads_books\*\.json\.gz\), found none"):
        load_preset("goodreads", tmp_path / "g")


@pytest.mark.parametrize("layout", ["amazon-2023", "ml-32m"])
def test_the_scale_measurement_writes_layouts_its_presets_read(tmp_path, layout):
    """recipes/bench_data_scale.py's files, at a small size: every row read back, times in the right unit."""
    from benchmarks.data_scale import LAYOUTS, child, write_layout

    folder = write_layout(layout, tmp_path / layout, 2_000)
    result = child(layout, str(folder))
    assert (result["rows_read"], result["rows"], result["users"], result["items"]) == (2_000, 2_000, 100, 40)
    assert result["times"] == {"amazon-2023": "timestamp: numbers read as milliseconds, 2017-07-14 to 2023-11-09",
                               "ml-32m": "timestamp: numbers read as seconds, 2017-07-14 to 2023-11-13"}[layout]
    assert set(LAYOUTS) == {"amazon-2023", "ml-32m"} and result["peak_gib"] >= result["import_gib"] > 0
