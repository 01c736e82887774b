import json

import pandas as pd
import pytest

from instructrec_peft import ColumnMap, DataError, InteractionLog, ItemCatalog

ROWS = [
    {"uid": "a", "iid": "1", "ts": "3", "stars": "5"},
    {"uid": "a", "iid": "2", "ts": "1", "stars": "4"},
    {"uid": "a", "iid": "2", "ts": "1", "stars": "4"},      # exact duplicate
    {"uid": "", "iid": "3", "ts": "2", "stars": "1"},       # missing user id
    {"uid": "b", "iid": "9", "ts": "4", "stars": "2"},      # unknown item
    {"uid": "b", "iid": "3", "ts": "", "stars": "2"},       # missing timestamp
    {"uid": "b", "iid": "3", "ts": "5", "stars": "3"},
]
COLUMNS = ColumnMap(user="uid", item="iid", time="ts", rating="stars")
EXPECTED = pd.DataFrame({"user_id": ["a", "a", "b"], "item_id": ["1", "2", "3"], "timestamp": [3.0, 1.0, 5.0],
                         "rating": [5.0, 4.0, 3.0]})


@pytest.fixture
def catalog():
    frame = pd.DataFrame({"item_id": ["1", "2", "3"], "name": ["Alien", "Heat", "Up"], "year": ["1979", "", "2009"],
                          "genres": ["Horror|Sci-Fi", "unknown", "Animation|Comedy"]}).set_index("item_id")
    return ItemCatalog(frame, text_fields=("name", "year"), category_field="genres", category_sep="|")


def _write(tmp_path, fmt):
    frame = pd.DataFrame(ROWS)
    path = tmp_path / f"log.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    elif fmt == "parquet":
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet", "dataframe", "dataset"])
def test_every_source_gives_the_same_clean_log(tmp_path, catalog, fmt):
    if fmt == "dataframe":
        source = pd.DataFrame(ROWS)
    elif fmt == "dataset":
        import datasets
        source = datasets.Dataset.from_list(ROWS)
    else:
        source = _write(tmp_path, fmt)
    log = InteractionLog.load(source, columns=COLUMNS, catalog=catalog)
    pd.testing.assert_frame_equal(log.interactions, EXPECTED, check_dtype=False)
    report = log.report
    assert (report.rows_in, report.missing_ids, report.missing_timestamps, report.duplicates, report.unknown_items,
            report.rows_out, report.users, report.items) == (7, 1, 1, 1, 1, 3, 2, 3)
    assert report.summary() == ("7 rows read, 3 kept (2 users, 3 items); dropped 4: 1 with a missing user or item id, "
                                "1 with a missing timestamp, 1 exact duplicates, 1 of items absent from the catalogue")


def test_missing_column_is_named(tmp_path, catalog):
    path = _write(tmp_path, "csv")
    with pytest.raises(DataError) as err:
        InteractionLog.load(path, catalog=catalog)
    assert str(err.value) == (f"{path}: no user column 'user_id'; the columns are ['uid', 'iid', 'ts', 'stars']. "
                              "Map yours with ColumnMap(user=...)")


def test_non_numeric_timestamp_names_the_line(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("user_id,item_id,timestamp\na,1,100\na,2,soon\n")
    with pytest.raises(DataError) as err:
        InteractionLog.load(path)
    assert str(err.value) == f"{path}, line 3: timestamp 'soon' is neither a number nor an ISO 8601 date"


def test_iso_dates_become_seconds():
    frame = pd.DataFrame({"user_id": ["a", "a"], "item_id": ["1", "2"],
                          "timestamp": ["1970-01-01T00:01:00Z", "1970-01-02T00:00:00Z"]})
    log = InteractionLog.load(frame)
    assert log.interactions["timestamp"].tolist() == [60.0, 86400.0]


def test_float_ids_read_as_labels():
    frame = pd.DataFrame({"user_id": [1.0, 2.0], "item_id": [10.0, 20.0], "timestamp": [1, 2]})
    log = InteractionLog.load(frame)
    assert log.interactions["user_id"].tolist() == ["1", "2"]
    assert log.interactions["item_id"].tolist() == ["10", "20"]


def test_catalog_text_and_categories(catalog):
    assert catalog.text("1") == "Alien (1979)"
    assert catalog.text("2") == "Heat"  # empty year left out
    assert catalog.categories("1") == ["Horror", "Sci-Fi"]
    assert catalog.categories("2") == []  # "unknown" is no category
    with pytest.raises(DataError, match="item '7' is not in the catalogue"):
        catalog.text("7")


@pytest.mark.parametrize("kwargs, message", [
    ({"text_fields": ("title",)}, "no column 'title'; the columns are ['name', 'year', 'genres']"),
    ({"text_fields": ()}, "text_fields is empty"),
    ({"text_fields": ("name",), "category_field": "genre"}, "no column 'genre'"),
    ({"text_fields": ("name",), "max_text_chars": 4}, "the text of item '1' is 5 characters, over max_text_chars=4"),
])
def test_catalog_errors(catalog, kwargs, message):
    with pytest.raises(DataError) as err:
        ItemCatalog(catalog.frame, **kwargs)
    assert message in str(err.value)


def test_empty_item_name_is_refused():
    frame = pd.DataFrame({"item_id": ["1"], "name": [" "]}).set_index("item_id")
    with pytest.raises(DataError, match="item '1' has an empty 'name'"):
        ItemCatalog(frame, text_fields=("name",))


def test_everything_dropped_is_an_error(catalog):
    frame = pd.DataFrame({"user_id": ["a"], "item_id": ["99"], "timestamp": [1]})
    with pytest.raises(DataError, match="no usable interactions left after cleaning"):
        InteractionLog.load(frame, catalog=catalog)


def test_recbole_directory(tmp_path):
    (tmp_path / "toy.inter").write_text("user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                                        "1\t10\t4\t5\n1\t11\t2\t6\n")
    (tmp_path / "toy.item").write_text("item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
                                       "10\tUsual Suspects, The\t1995\tCrime Thriller\n11\tHeat\t1995\tAction\n")
    log = InteractionLog.from_recbole(tmp_path, "toy")
    assert log.name == "toy"
    assert log.catalog.text("10") == "Usual Suspects, The (1995)"
    assert log.catalog.categories("10") == ["Crime", "Thriller"]
    assert log.interactions["rating"].tolist() == [4.0, 2.0]


def test_category_paths_as_amazon_publishes_them():
    from instructrec_peft import ItemCatalog

    frame = pd.DataFrame({"title": ["Alien", "Heat"],
                          "categories": [[["Movies & TV", "Movies", "Horror"], ["Movies & TV", "Sci-Fi"]],
                                         ["Drama", "Crime"]]}, index=pd.Index(["a", "h"], name="asin"))
    expected = {"all": ["Movies & TV", "Movies", "Horror", "Sci-Fi"], "leaf": ["Horror", "Sci-Fi"],
                "2": ["Movies & TV", "Movies", "Sci-Fi"], "1": ["Movies & TV"]}
    for path, labels in expected.items():
        catalog = ItemCatalog(frame, text_fields=("title",), category_field="categories", category_path=path)
        assert catalog.categories("a") == labels
        assert catalog.categories("h") == ["Drama", "Crime"]  # a flat list is labels whatever the path setting
    with pytest.raises(DataError, match="category_path 'top' is not 'all', 'leaf' or a number of levels"):
        ItemCatalog(frame, text_fields=("title",), category_field="categories", category_path="top")


def test_a_serialized_list_in_a_text_column_is_refused():
    from instructrec_peft import ItemCatalog

    frame = pd.DataFrame({"title": ["Alien"], "categories": ["[['Movies & TV', 'Movies', 'Horror']]"]},
                         index=pd.Index(["a"], name="asin"))
    with pytest.raises(DataError, match=r"column 'categories' holds text that looks like a serialized list "
                                        r"\(item 'a': \"\[\['Movies & TV'"):
        ItemCatalog(frame, text_fields=("title",), category_field="categories")


def test_category_path_is_validated_in_the_config():
    from instructrec_peft.models.config import DataArguments

    assert DataArguments(category_path="leaf").category_path == "leaf"
    with pytest.raises(ValueError, match="DataArguments.category_path: '0' is not 'all', 'leaf'"):
        DataArguments(category_path="0")


def test_nested_categories_survive_a_json_lines_item_file(tmp_path):
    from instructrec_peft import ItemCatalog

    path = tmp_path / "meta.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in (
        {"asin": "B1", "title": "Alien", "categories": [["Movies & TV", "Movies", "Horror"]]},
        {"asin": "B2", "title": "Heat", "categories": [["Movies & TV", "Movies", "Crime"]]})) + "\n")
    catalog = ItemCatalog.load(path, id_column="asin", text_fields=("title",), category_field="categories",
                               category_path="leaf")
    assert [catalog.categories(i) for i in ("B1", "B2")] == [["Horror"], ["Crime"]]


def test_compressed_files_and_json_arrays_are_read_transparently(tmp_path):
    import bz2
    import gzip

    from instructrec_peft.data.interactions import read_table

    rows = [{"user_id": "u1", "item_id": "1", "timestamp": 10}, {"user_id": "u1", "item_id": "2", "timestamp": 20}]
    jsonl = "\n".join(json.dumps(r) for r in rows) + "\n"
    with gzip.open(tmp_path / "reviews.json.gz", "wt", encoding="utf-8") as handle:
        handle.write(jsonl)
    with bz2.open(tmp_path / "ratings.csv.bz2", "wt", encoding="utf-8") as handle:
        handle.write("user_id,item_id,timestamp\nu1,1,10\nu1,2,20\n")
    (tmp_path / "array.json").write_text(json.dumps(rows))
    for name in ("reviews.json.gz", "ratings.csv.bz2", "array.json"):
        frame, _, _ = read_table(tmp_path / name)
        assert frame[["user_id", "item_id"]].astype(str).values.tolist() == [["u1", "1"], ["u1", "2"]], name
    (tmp_path / "t.parquet.gz").write_bytes(gzip.compress(b"x"))
    with pytest.raises(DataError, match="parquet files are read uncompressed"):
        read_table(tmp_path / "t.parquet.gz")
    (tmp_path / "t.xml.gz").write_bytes(gzip.compress(b"x"))
    with pytest.raises(DataError, match="cannot tell the format from the suffix '.xml'"):
        read_table(tmp_path / "t.xml.gz")
