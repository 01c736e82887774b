import json
import subprocess
import sys

import pytest

from instructrec_peft.errors import DataError
from instructrec_peft.feedback import Feedback, FeedbackLog

WRITER = """
import sys
from instructrec_peft.feedback import Feedback, FeedbackLog
log = FeedbackLog(sys.argv[1])
for i in range(int(sys.argv[3])):
    log.append(Feedback(user=sys.argv[2], item=f"item {i}", accepted=i % 2 == 0, comment="x" * 500))
"""


def test_records_round_trip_with_a_time_stamp(tmp_path):
    log = FeedbackLog(tmp_path / "sub" / "feedback.jsonl")
    written = log.append(Feedback(user="u1", item="Heat (1995)", accepted=False, comment="seen it"))
    assert written.time is not None and written.time > 0
    assert log.read() == [written]
    assert json.loads((tmp_path / "sub" / "feedback.jsonl").read_text())["accepted"] is False


def test_concurrent_writers_never_interleave(tmp_path):
    path = tmp_path / "feedback.jsonl"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"u{w}", "50"]) for w in range(4)]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0, 0]
    records = FeedbackLog(path).read()  # every line parses: none torn or interleaved
    assert len(records) == 200
    for w in range(4):
        assert [r.item for r in records if r.user == f"u{w}"] == [f"item {i}" for i in range(50)]


@pytest.mark.parametrize("line, message", [
    ('{"user": "u1", "item": "x", "accepted": "yes"}', r"line 2: feedback accepted: expected true or false, got 'yes'"),
    ('{"user": "", "item": "x", "accepted": true}', r"line 2: feedback user: expected a non-empty string"),
    ('{"user": "u1", "accepted": true}', r"line 2: missing field\(s\) \['item'\]"),
    ('{"user": "u1", "item": "x", "accepted": true, "score": 5}', r"line 2: unknown field\(s\) \['score'\]"),
    ('{"user": "u1", "item": "x", "accepted": true, "time": -1}', r"line 2: feedback time: expected seconds"),
    ('["u1", "x", true]', r"line 2: expected a JSON object, got list"),
    ('{"user": "u1", "item": "x", accepted: true}', r"line 2: not valid JSON"),
])
def test_malformed_records_are_refused_with_the_line(tmp_path, line, message):
    path = tmp_path / "feedback.jsonl"
    path.write_text('{"user": "u1", "item": "ok", "accepted": true}\n' + line + "\n")
    with pytest.raises(DataError, match=message):
        FeedbackLog(path).read()


def test_invalid_feedback_is_never_written(tmp_path):
    log = FeedbackLog(tmp_path / "feedback.jsonl")
    with pytest.raises(DataError, match="feedback comment: 1001 characters, over 1000"):
        log.append(Feedback(user="u1", item="x", accepted=True, comment="c" * 1001))
    assert not log.path.exists()


def test_the_recommender_records_feedback(tiny_assets, tmp_path):
    from instructrec_peft.recommender import Recommender
    from instructrec_peft.tuning import run_tuning
    from training_helpers import tiny_configs

    run_tuning(*tiny_configs(tiny_assets, tmp_path / "out", max_steps=1))
    rec = Recommender.from_pretrained(str(tmp_path / "out"))
    with pytest.raises(ValueError, match="no feedback log: set Recommender.feedback_path"):
        rec.record_feedback("u1", "Film A0", accepted=True)
    rec.feedback_path = tmp_path / "feedback.jsonl"
    rec.record_feedback("u1", "Film A0", accepted=False, comment="not for me")
    assert [(f.user, f.item, f.accepted, f.comment) for f in FeedbackLog(rec.feedback_path).read()] == [
        ("u1", "Film A0", False, "not for me")]
