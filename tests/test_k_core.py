import pandas as pd
import pytest

from instructrec_peft import ColumnMap, DataError, InteractionLog
from instructrec_peft.data.k_core import k_core


def _log(toy_catalog, rows):
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    return InteractionLog.load(frame, catalog=toy_catalog, columns=ColumnMap(rating=None), name="toy")


def test_the_core_is_reached_by_repeated_drops(toy_catalog):
    # Item 9 has one interaction: dropping it leaves u3 with one, dropping u3 leaves item 3 with
    # one, dropping that leaves u2 with one: only u1, u4 and items 1, 2 survive a 2 / 2 core.
    rows = [("u1", "1", 1), ("u1", "2", 2), ("u4", "1", 3), ("u4", "2", 4),
            ("u2", "2", 5), ("u2", "3", 6), ("u3", "3", 7), ("u3", "9", 8)]
    log = _log(toy_catalog, rows)
    core = k_core(log, min_user=2, min_item=2)
    assert sorted(map(tuple, core.interactions[["user_id", "item_id"]].values.tolist())) == [
        ("u1", "1"), ("u1", "2"), ("u4", "1"), ("u4", "2")]
    assert core.report.below_k_core == 4 and core.report.rows_out == 4
    assert (core.report.users, core.report.items) == (2, 2)
    assert sorted(core.catalog.texts) == ["1", "2"]  # negatives come from the core's items only
    assert "4 below the k-core bounds" in core.report.summary()
    assert k_core(log).interactions.equals(log.interactions)  # no bounds: the log as it was


def test_an_empty_core_and_negative_bounds_are_errors(toy_catalog):
    log = _log(toy_catalog, [("u1", "1", 1), ("u2", "2", 2)])
    with pytest.raises(DataError, match="no interactions left in the 2-user / 1-item core"):
        k_core(log, min_user=2, min_item=1)
    with pytest.raises(ValueError, match="k-core bounds must be >= 0"):
        k_core(log, min_user=-1)


def test_the_config_applies_the_core_when_the_log_is_loaded(tiny_assets):
    from instructrec_peft.config import DataArguments
    from instructrec_peft.models.workspace import load_log

    full = load_log(DataArguments(dataset=tiny_assets["data"]))
    core = load_log(DataArguments(dataset=tiny_assets["data"], min_item_interactions=6))
    counts = full.interactions["item_id"].value_counts()
    assert core.report.below_k_core > 0 and core.interactions["item_id"].value_counts().min() >= 6
    assert len(core.interactions) <= int(counts[counts >= 6].sum())
    with pytest.raises(ValueError, match="DataArguments.min_user_interactions: must be >= 0"):
        DataArguments(min_user_interactions=-1)
