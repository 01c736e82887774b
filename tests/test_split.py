import pytest

from instructrec_peft import DataError, leave_one_out


def test_split_on_a_hand_made_log(toy_log):
    split = leave_one_out(toy_log)
    # u1: items 2 and 3 share timestamp 20 and keep their row order; u3 is sorted by time.
    assert split.sequences == {"u1": ["1", "2", "3", "4", "5"], "u2": ["6", "7", "8", "9"],
                               "u3": ["11", "12", "10"], "u4": ["1", "2"]}
    assert split.evaluated == ["u1", "u2", "u3"]
    assert split.short_users == ["u4"]
    assert split.train_sequence("u1") == ["1", "2", "3"]
    assert (split.target("u1", "valid"), split.target("u1", "test")) == ("4", "5")
    assert split.history("u1", "valid") == ["1", "2", "3"]
    assert split.history("u1", "test") == ["1", "2", "3", "4"]
    assert split.history_ratings("u1", "test") == [5.0, 4.0, 2.0, 5.0]
    assert split.train_sequence("u4") == ["1", "2"]  # short users train, are not evaluated
    assert split.frame("test").values.tolist() == [["u1", "5"], ["u2", "9"], ["u3", "10"]]
    assert split.frame("train").values.tolist() == [["u1", "1"], ["u1", "2"], ["u1", "3"], ["u2", "6"], ["u2", "7"],
                                                    ["u3", "11"], ["u4", "1"], ["u4", "2"]]
    assert split.item_counts() == {"1": 2, "2": 2, "3": 1, "6": 1, "7": 1, "11": 1}
    with pytest.raises(DataError, match="user 'u4' has no test target"):
        split.target("u4", "test")


def test_short_users_can_be_dropped(toy_log):
    split = leave_one_out(toy_log, short_users="drop")
    assert split.users == ["u1", "u2", "u3"]
    assert split.short_users == ["u4"]


def test_split_is_deterministic_under_row_shuffles_of_other_users(toy_log):
    frame = toy_log.interactions
    shuffled = frame.sample(frac=1.0, random_state=3)
    # Only the relative order of tied rows matters; keep u1's tied rows in source order.
    u1_rows = frame[frame.user_id == "u1"]
    others = shuffled[shuffled.user_id != "u1"]
    import pandas as pd
    again = leave_one_out(pd.concat([others, u1_rows]))
    assert again.sequences == leave_one_out(frame).sequences


def test_bad_arguments():
    import pandas as pd
    with pytest.raises(ValueError, match="min_interactions must be >= 3"):
        leave_one_out(pd.DataFrame(), min_interactions=2)
    with pytest.raises(DataError, match="no user has 3 or more interactions"):
        leave_one_out(pd.DataFrame({"user_id": ["a", "a"], "item_id": ["1", "2"], "timestamp": [1.0, 2.0]}))
