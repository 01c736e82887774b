import pytest

from instructrec_peft.data.atomic import read_atomic
from instructrec_peft.errors import DataError


def write(tmp_path, text: str | bytes, name="toy.inter"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_reads_typed_columns(tmp_path):
    path = write(tmp_path, "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                           "196\t242\t3\t881250949\n186\t302\t\t891717742\n")
    frame = read_atomic(path)
    assert list(frame.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert frame["user_id"].tolist() == ["196", "186"]
    assert frame["timestamp"].tolist() == [881250949.0, 891717742.0]
    assert frame["rating"].iloc[0] == 3.0 and frame["rating"].isna().iloc[1]


def test_token_seq_is_kept_whole(tmp_path):
    path = write(tmp_path,
                 "item_id:token\tmovie_title:token_seq\tclass:token_seq\n1\tUsual Suspects, The\tCrime Thriller\n",
                 "toy.item")
    frame = read_atomic(path)
    assert frame.to_dict("records") == [
        {"item_id": "1", "movie_title": "Usual Suspects, The", "class": "Crime Thriller"}]


@pytest.mark.parametrize("header, message", [
    ("user_id\titem_id:token", "line 1, column 1: header cell 'user_id' has no type"),
    ("user_id:token\titem_id:int", "line 1, column 2: unknown type 'int' in 'item_id:int'"),
    ("user_id:token\tuser_id:token", "line 1, column 2: duplicate column name 'user_id'"),
    (":token\titem_id:token", "line 1, column 1: header cell ':token' has an empty name"),
])
def test_header_errors_name_line_and_column(tmp_path, header, message):
    path = write(tmp_path, header + "\n1\t2\n")
    with pytest.raises(DataError) as err:
        read_atomic(path)
    assert str(err.value).startswith(f"{path}, {message}")


def test_non_numeric_float_names_line_and_column(tmp_path):
    path = write(tmp_path, "user_id:token\titem_id:token\ttimestamp:float\n1\t2\t100\n\n1\t3\tyesterday\n")
    with pytest.raises(DataError) as err:
        read_atomic(path)
    assert str(err.value) == (f"{path}, line 4, column 'timestamp': 'yesterday' is not a number "
                              "(the header declares timestamp:float)")


def test_non_utf8_names_the_line(tmp_path):
    path = write(tmp_path, b"user_id:token\titem_id:token\n1\t2\n1\t\xff\xfe\n")
    with pytest.raises(DataError) as err:
        read_atomic(path)
    assert str(err.value) == f"{path}, line 3: bytes b'\\xff' are not valid UTF-8; re-encode the file as UTF-8"


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("user_id:token\titem_id:token\n", "the header is followed by no rows"),
])
def test_empty_files(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=message):
        read_atomic(path)


def test_wrong_field_count_is_reported(tmp_path):
    path = write(tmp_path, "user_id:token\titem_id:token\n1\t2\n1\t2\t3\n")
    with pytest.raises(DataError, match="Expected 2 fields in line 2, saw 3"):
        read_atomic(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_atomic(tmp_path / "absent.inter")
