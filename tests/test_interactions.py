import json

import pandas as pd
import pytest

from instructrec_peft import ColumnMap, DataError, InteractionLog, ItemCatalog
from instructrec_peft.data.interactions import parse_times

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
                                "1 with a missing timestamp, 1 exact duplicates, 1 of items absent from the "
                                "catalogue; ts: numbers read as seconds (detected from their size), 1970-01-01 to "
                                "1970-01-01 "
                                "(numbers that only order the events, it seems: their order is all that is used)")


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
    assert str(err.value) == (f"{path}, line 3: timestamp 'soon' is neither a number nor an ISO 8601 date; for "
                              "another date layout set time_unit to its strptime format")


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
    ({"text_fields": ("name",), "max_text_chars": 4}, "items: max_text_chars=4 leaves no room for a name"),
])
def test_catalog_errors(catalog, kwargs, message):
    with pytest.raises(DataError) as err:
        ItemCatalog(catalog.frame, **kwargs)
    assert message in str(err.value)


def test_item_texts_fit_the_character_budget_name_first():
    frame = pd.DataFrame({"title": ["The Lord of the Rings", "Heat", "x" * 50],
                          "brand": ["Some Very Long Publisher Name Incorporated", "Warner", ""]},
                         index=pd.Index(["1", "2", "3"], name="item_id"))
    catalog = ItemCatalog(frame, text_fields=("title", "brand"), max_text_chars=40)
    texts = ["The Lord of the Rings (Some Very...)", "Heat (Warner)", "x" * 37 + "..."]
    assert [catalog.text(i) for i in "123"] == texts
    assert catalog.truncated == 2 and all(len(t) <= 40 for t in catalog.texts.values())


def test_empty_item_name_is_refused():
    frame = pd.DataFrame({"item_id": ["1"], "name": [" "]}).set_index("item_id")
    with pytest.raises(DataError, match="item '1' has an empty 'name'"):
        ItemCatalog(frame, text_fields=("name",))


def test_everything_dropped_is_an_error(catalog):
    frame = pd.DataFrame({"user_id": ["a", None], "item_id": ["1", "2"], "timestamp": [None, 1]})
    with pytest.raises(DataError, match="no usable interactions left after cleaning"):
        InteractionLog.load(frame, catalog=catalog)


def test_a_log_whose_item_ids_match_no_catalogue_id_is_named_with_examples(catalog):
    frame = pd.DataFrame({"user_id": ["a", "a"], "asin": ["B0099", "B0098"], "timestamp": [1, 2]})
    with pytest.raises(DataError) as err:
        InteractionLog.load(frame, catalog=catalog, columns=ColumnMap(item="asin"))
    assert str(err.value) == ("DataFrame: none of the item ids in column 'asin' is in the catalogue items (e.g. "
                              "'B0099' in the log, '1' in the catalogue); check item_column and item_id_column")


def test_mostly_unknown_items_are_a_warning_in_the_report(catalog, caplog):
    frame = pd.DataFrame({"user_id": ["a"] * 4, "item_id": ["1", "x", "y", "z"], "timestamp": [1, 2, 3, 4]})
    log = InteractionLog.load(frame, catalog=catalog)
    warning = ("item_id: 75% of the rows name items absent from the catalogue items (e.g. 'x'; catalogue ids look "
               "like '1')")
    assert log.report.warnings == [warning] and f"WARNING {warning}" in log.report.summary()
    assert caplog.messages == [f"DataFrame: {warning}"]


SECOND = 1_600_000_000  # 2020-09-13


@pytest.mark.parametrize("values, unit, seconds, how", [
    ([SECOND, SECOND + 60], "auto", [SECOND, SECOND + 60], "numbers read as seconds (detected from their size)"),
    ([SECOND * 1000, SECOND * 1000 + 500], "auto", [SECOND, SECOND + 0.5],
     "numbers read as milliseconds (detected from their size)"),
    ([SECOND * 10**6, SECOND * 10**6 + 1], "auto", [SECOND, SECOND + 1e-6],
     "numbers read as microseconds (detected from their size)"),
    ([str(SECOND * 1000)], "ms", [SECOND], "numbers read as milliseconds"),
    (["2020-09-13T12:26:40Z", "2020-09-13"], "auto", [SECOND, 1599955200.0], "dates (ISO 8601)"),
    (["Sun Sep 13 05:26:40 -0700 2020"], "%a %b %d %H:%M:%S %z %Y", [SECOND], "dates (%a %b %d %H:%M:%S %z %Y)"),
])
def test_time_units_are_detected_or_given_and_reported(values, unit, seconds, how):
    got, said, warnings = parse_times(pd.Series(values, dtype=object), unit, "t")
    assert got.tolist() == pytest.approx(seconds) and warnings == []
    assert said == f"t: {how}, 2020-09-13 to 2020-09-13"


def test_a_wrong_time_unit_is_a_warning_naming_the_column_and_a_value():
    _, _, warnings = parse_times(pd.Series([SECOND * 1000]), "s", "ts")
    assert warnings == [f"ts: timestamps reach after year 9999 (e.g. {SECOND * 1000}); if they are milliseconds or "
                        "microseconds read as seconds, set time_unit: ms or us"]
    _, _, warnings = parse_times(pd.Series([SECOND]), "us", "ts")
    assert warnings == [f"ts: every timestamp falls in 1970 (e.g. {SECOND}) when read as us; if they are seconds, "
                        "set time_unit: s (or auto)"]
    with pytest.raises(DataError, match=r"log, row 0: ts '2020-09-13' is not a number, as time_unit 's' says"):
        parse_times(pd.Series(["2020-09-13"]), "s", "ts")
    with pytest.raises(DataError, match=r"log, row 0: ts 'Sep 13' does not match time_unit '%Y-%m-%d'"):
        parse_times(pd.Series(["Sep 13"]), "%Y-%m-%d", "ts")


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
    from instructrec_peft.config import DataArguments

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


def test_config_time_unit_and_text_budget_are_validated_and_reach_the_log(tmp_path):
    from instructrec_peft.config import DataArguments
    from instructrec_peft.models.workspace import load_log

    with pytest.raises(ValueError, match=r"DataArguments.time_unit: 'minutes' is not one of \('auto', 's', 'ms', "):
        DataArguments(time_unit="minutes")
    with pytest.raises(ValueError, match="DataArguments.max_item_text_chars: must be >= 8, got 3"):
        DataArguments(max_item_text_chars=3)
    (tmp_path / "log.csv").write_text(f"user_id,item_id,timestamp\na,1,{SECOND * 1000}\na,2,{SECOND * 1000 + 1}\n")
    (tmp_path / "items.csv").write_text("item_id,title,brand\n1,Alien,A very long brand name here\n2,Heat,B\n")
    args = DataArguments(dataset=str(tmp_path / "log.csv"), items_file=str(tmp_path / "items.csv"),
                         item_text_fields=["title", "brand"], category_field=None, time_unit="ms",
                         max_item_text_chars=20)
    log = load_log(args)
    assert log.interactions["timestamp"].tolist() == [SECOND, SECOND + 0.001]
    assert log.report.times == "timestamp: numbers read as milliseconds, 2020-09-13 to 2020-09-13"
    assert (log.catalog.text("1"), log.catalog.text("2"), log.report.truncated_texts) == ("Alien (A very...)",
                                                                                           "Heat (B)", 1)
