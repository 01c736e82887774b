"""Kill a tuning run or a feedback append at its writes, or fill the disk there; then recover, load, resume.

``fault_sweep.py`` does the runs (one forked child per fault); these tests state what must hold
after each: nothing lost, nothing mixed, nothing loaded that should not be. The default suite cuts
the tuning run at every 8th write (both sides of the commit among them); ``make test-slow`` at every
one.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def sweep(kind: str, spec: dict, tmp_path: Path) -> dict:
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(TESTS / "fault_sweep.py"), kind, str(tmp_path / "spec.json"),
                           str(tmp_path / "result.json")], capture_output=True, text=True, env=env, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((tmp_path / "result.json").read_text())


def check_tuning(result: dict, every: int) -> None:
    rows = result["rows"]
    assert result["events"] > 100  # the run's saves: two checkpoints and the final commit
    assert len(rows) == 2 * len(range(1, result["events"] + 1, every))
    for row in rows:
        where = f"{row['action']} at write {row['at']}"
        # Nothing mixed: after recovery the folder is the previous adapter or the new one, whole.
        assert row["state"] in ("old", "new"), where
        # Nothing lost: a run that reported success left its adapter.
        assert row["status"] != 0 or row["state"] == "new", where
        assert row["status"] in (0, 1, -9) and (row["action"] == "full" or row["status"] == -9), where
        assert row["cleaned"] and row["loads"], where
        # Resuming (from the newest complete checkpoint, or from the start) gives the uninterrupted run.
        assert row["resumed"] and row["resumed_equal"] and row["resumed_state_step"] == 4, where
    kills = [row for row in rows if row["action"] == "kill"]
    assert {row["state"] for row in kills} == {"old", "new"}  # both sides of the commit were cut


def tuning_spec(tiny_assets, tmp_path, every):
    assets = {"gpt2": tiny_assets["gpt2"], "data": tiny_assets["data"]}
    return {"assets": assets, "root": str(tmp_path), "actions": ["kill", "full"], "at": None, "every": every}


def test_a_tuning_run_cut_at_every_eighth_write(tiny_assets, tmp_path):
    check_tuning(sweep("tuning", tuning_spec(tiny_assets, tmp_path, 8), tmp_path), every=8)


@pytest.mark.slow
def test_a_tuning_run_cut_at_every_write(tiny_assets, tmp_path):
    result = sweep("tuning", tuning_spec(tiny_assets, tmp_path, 1), tmp_path)
    check_tuning(result, every=1)
    print(f"\ntuning run: {result['events']} writes, {len(result['rows'])} faults")


def test_the_feedback_log_cut_at_every_write_and_byte(tmp_path):
    result = sweep("feedback", {"root": str(tmp_path)}, tmp_path)
    first_two = ["item 1", "item 2"]
    rows = {action: [r for r in result["rows"] if r["action"] == action]
            for action in ("full", "kill-event", "kill-mid-write")}
    assert len(rows["full"]) == result["record_bytes"] and len(rows["kill-mid-write"]) == result["record_bytes"] + 1
    assert len(rows["kill-event"]) == result["events"] >= 2
    for row in rows["full"]:  # a full disk at every byte: WriteError, and the file exactly as it was
        assert (row["status"], row["size_kept"], row["read"], row["skipped"]) == (3, True, first_two, 0), row
    for row in rows["kill-event"]:  # killed before a file operation: the record was not written
        assert (row["status"], row["read"], row["after_append"]) == (-9, first_two, first_two + ["item 9"]), row
    for row in rows["kill-mid-write"]:
        # The write stopped after `at` bytes: the complete records stay readable, a fragment is
        # skipped (and reported), and the next append lands on a line of its own.
        complete = row["at"] >= result["record_bytes"] - 1  # all but the newline is a whole record too
        kept = first_two + (["item 3"] if complete else [])
        assert (row["status"], row["read"], row["after_append"]) == (-9, kept, kept + ["item 9"]), row
        assert row["skipped"] == (0 if complete or row["at"] == 0 else 1), row
