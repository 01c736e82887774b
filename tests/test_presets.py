"""MovieLens as GroupLens publishes it: each layout written here in its exact format (latin-1
titles, '::' separators, genre flags), loaded, split and turned into examples of every task form."""

import pytest

from instructrec_peft import DataError, leave_one_out
from instructrec_peft.data.presets import load_preset
from instructrec_peft.instructions.examples import ExampleConfig, build_examples
from instructrec_peft.models.config import DataArguments
from instructrec_peft.models.workspace import load_log

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


def test_a_tuning_run_reads_a_preset(tiny_assets, tmp_path):
    from training_helpers import tiny_configs

    from instructrec_peft.training.tuning import run_tuning

    folder = tmp_path / "ml-1m"
    write_1m(folder)
    out = tmp_path / "out"
    result = run_tuning(*tiny_configs(tiny_assets, out, dataset=str(folder), data_preset="movielens", max_steps=1))
    assert (out / "adapter_model.safetensors").is_file() and result.train_metrics["train_examples"] > 0


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
    with gzip.open(folder / "meta_Movies_and_TV.jsonl.gz", "wt") as handle:
        for i, asin in enumerate(asins):
            categories = [] if i == 0 else ["Movies & TV", GENRES[i][0]]
            handle.write(json.dumps({"main_category": "Movies & TV", "title": TITLES[i], "store": "Studio",
                                     "categories": categories, "details": {}, "parent_asin": asin,
                                     "price": None, "features": []}) + "\n")


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


@pytest.mark.parametrize("preset, write, first", [
    ("amazon-2023", write_amazon_2023, ["Movies & TV"]),
    ("amazon-2014", write_amazon_2014, ["Movies & TV", "Movies", "Animation"])])
def test_amazon_layouts_load_with_real_category_names(tmp_path, preset, write, first):
    folder = tmp_path / "amazon"
    write(folder)
    log = load_preset(preset, folder)
    assert len(log.interactions) == 30 and log.report.users == 6
    assert log.catalog.categories("B00") == first  # 2023: main_category when categories is empty
    assert log.catalog.text("B01").startswith("Amélie (2001)")
    split = leave_one_out(log)
    config = ExampleConfig(tasks={"matching": 1, "reranking": 1}, vocabulary="product", num_candidates=3,
                           examples_per_user=None, seed=0)
    rows = build_examples(split, log.catalog, "train", config)
    intentions = [r["prompt"] for r in rows if r["intention"] == "I2"]
    assert intentions and not any("[" in p for p in rows["prompt"])
    assert all(any(g[0] in p or "Movies & TV" in p for g in GENRES) for p in intentions)
    assert DataArguments(data_preset=preset).vocabulary == "product"
    assert DataArguments(data_preset=preset, vocabulary="movie").vocabulary == "movie"
