import json
import subprocess
import sys

import pytest

from instructrec_peft.data.feedback import Feedback, FeedbackLog
from instructrec_peft.errors import DataError

WRITER = """
import sys
from instructrec_peft.data.feedback import Feedback, FeedbackLog
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
    ('{"user": "u1", "item": "x", "accepted": "yes"}',
     r"line 2: feedback accepted: expected true or false, got 'yes'"),
    ('{"user": "", "item": "x", "accepted": true}', r"line 2: feedback user: expected a non-empty string"),
    ('{"user": "u1", "accepted": true}', r"line 2: missing field\(s\) \['item'\]"),
    ('{"user": "u1", "item": "x", "accepted": true, "score": 5}', r"line 2: unknown field\(s\) \['score'\]"),
    ('{"user": "u1", "item": "x", "accepted": true, "time": -1}', r"line 2: feedback time: expected seconds"),
    ('["u1", "x", true]', r"line 2: expected a JSON object, got list"),
    ('{"user": "u1", "item": "x", "accepted": true, "history": "Heat"}',
     r"line 2: feedback history: expected a list of item ids or texts, got 'Heat'"),
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
    from training_helpers import tiny_configs

    from instructrec_peft.inference.recommender import Recommender
    from instructrec_peft.training.tuning import run_tuning

    run_tuning(*tiny_configs(tiny_assets, tmp_path / "out", max_steps=1))
    rec = Recommender.from_pretrained(str(tmp_path / "out"))
    with pytest.raises(ValueError, match="no feedback log: set Recommender.feedback_path"):
        rec.record_feedback("u1", "Film A0", accepted=True)
    rec.feedback_path = tmp_path / "feedback.jsonl"
    rec.record_feedback("u1", "Film A0", accepted=False, comment="not for me")
    assert [(f.user, f.item, f.accepted, f.comment) for f in FeedbackLog(rec.feedback_path).read()] == [
        ("u1", "Film A0", False, "not for me")]


def test_tuning_on_feedback_that_rejects_an_item_lowers_its_score(tiny_assets, tmp_path):
    from training_helpers import tiny_configs

    from instructrec_peft.config import DataArguments, ModelArguments
    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.inference.scoring import score_candidates
    from instructrec_peft.instructions.manifest import Manifest
    from instructrec_peft.instructions.templates import get_template
    from instructrec_peft.instructions.tokenization import PromptEncoder
    from instructrec_peft.models.loading import load_adapter, load_tokenizer
    from instructrec_peft.models.workspace import load_log
    from instructrec_peft.training.tuning import run_tuning

    first = tmp_path / "first"
    run_tuning(*tiny_configs(tiny_assets, first, max_steps=2))
    log = load_log(DataArguments(dataset=tiny_assets["data"]))
    split = leave_one_out(log)
    user = split.evaluated[0]
    rejected = next(i for i in log.catalog.texts if i not in split.touched(user))
    feedback = FeedbackLog(tmp_path / "feedback.jsonl")
    feedback.append(Feedback(user=user, item=log.catalog.text(rejected), accepted=False))  # by text
    encoder = PromptEncoder(load_tokenizer(ModelArguments(model_name_or_path=tiny_assets["gpt2"])))
    history = [log.catalog.text(i) for i in split.train_sequence(user)]
    prompt = get_template("p1-i0-pointwise-1").render(vocabulary="movie", history=history,
                                                      item=log.catalog.text(rejected), answer="",
                                                      max_history_items=10).prompt

    def yes_minus_no(adapter):
        yes, no = score_candidates(load_adapter(str(adapter)), encoder.prompt_ids([prompt])[0],
                                   encoder.completion_ids(["Yes", "No"]), normalize=False).tolist()
        return yes - no

    second = tmp_path / "second"
    run_tuning(*tiny_configs(tiny_assets, second, init_adapter=str(first), feedback_file=str(feedback.path),
                             feedback_repeats=4, max_train_examples=4, max_steps=4))
    assert yes_minus_no(second) < yes_minus_no(first) - 0.1
    # The continued adapter keeps the first one's templates beside the feedback's own.
    names = {t["name"] for t in Manifest.load(second).templates}
    assert {"p1-i0-matching-1", "p1-i0-pointwise-1"} <= names


def test_feedback_for_an_unknown_item_or_user_is_refused(tiny_assets):
    from instructrec_peft.config import DataArguments
    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.instructions.feedback_examples import feedback_examples
    from instructrec_peft.models.workspace import load_log

    log = load_log(DataArguments(dataset=tiny_assets["data"]))
    split = leave_one_out(log)
    with pytest.raises(DataError, match="item 'No Such Film' is neither an item id nor an item text"):
        feedback_examples([Feedback(user="u0", item="No Such Film", accepted=False)], split, log.catalog)
    with pytest.raises(DataError, match="feedback of user 'nobody': the user is not in the interaction log"):
        feedback_examples([Feedback(user="nobody", item="1", accepted=False)], split, log.catalog)
    rows = feedback_examples([Feedback(user="u0", item="1", accepted=False),
                              Feedback(user="u0", item="2", accepted=True)], split, log.catalog, repeats=2)
    assert rows["completion"].count("No") == 4 and rows["completion"].count("Yes") == 4  # P1 + P2, twice each
    p2 = [p for p, t in zip(rows["prompt"], rows["template"]) if t == "p2-i0-pointwise-1"]
    # The statement for item 1 is built from the user's other feedback only: no copying the answer.
    assert p2[0].split('"')[1] == f"I liked {log.catalog.text('2')}."


def test_a_line_that_is_not_json_is_skipped_and_reported(tmp_path):
    path = tmp_path / "feedback.jsonl"
    path.write_text('{"user": "u1", "item": "ok", "accepted": true}\n{"user": "u1", "item": "x", accepted: true}\n')
    log = FeedbackLog(path)
    assert [r.item for r in log.read()] == ["ok"]
    assert log.skipped == [(2, "not a complete JSON record ('{\"user\": \"u1\", \"item\": \"x\", accepted: tr')")]


def test_a_log_torn_by_an_older_writer_gives_back_every_complete_record(tmp_path):
    # What a short write used to leave: a fragment, then the next record glued onto it, then more.
    path = tmp_path / "feedback.jsonl"
    first = '{"user": "u1", "item": "a", "accepted": true, "comment": null, "time": 1.0}'
    glued = '{"user": "u2", "item": "b", "accepted": false, "comment": null, "time": 2.0}'
    path.write_text(first + "\n" + '{"user": "u1", "item": "c", "acc' + glued + "\n")
    log = FeedbackLog(path)
    assert [(r.user, r.item) for r in log.read()] == [("u1", "a"), ("u2", "b")]
    assert log.skipped == [(2, "a fragment of 32 characters before a complete record")]
    # A log that ends in a fragment: the next append starts a line of its own and reads back.
    path.write_text(first + "\n" + '{"user": "u1", "item": "c", "acc')
    log.append(Feedback(user="u3", item="d", accepted=True))
    assert [r.item for r in log.read()] == ["a", "d"] and log.skipped[0][0] == 2


def test_a_write_that_fails_part_way_leaves_the_log_as_it_was(tmp_path):
    # RLIMIT_FSIZE, as a full disk would: the first record fits, the second is cut at the limit, the third fits.
    path = tmp_path / "feedback.jsonl"
    code = f"""
import resource, sys
from instructrec_peft.data.feedback import Feedback, FeedbackLog
from instructrec_peft.errors import WriteError
log = FeedbackLog({str(path)!r})
log.append(Feedback(user="u1", item="a", accepted=True, time=1.0))
size = len(open({str(path)!r}, "rb").read())
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 80, size + 80))
try:
    log.append(Feedback(user="u1", item="b", accepted=False, comment="x" * 100, time=2.0))
except WriteError as err:
    print("WriteError:", err)
log.append(Feedback(user="u1", item="c", accepted=True, time=3.0))  # small enough to fit
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "WriteError:" in done.stdout and "wrote 80 of 175 bytes" in done.stdout
    assert "the log is left as it was" in done.stdout
    log = FeedbackLog(path)
    assert [r.item for r in log.read()] == ["a", "c"] and log.skipped == []


def test_an_app_record_carries_its_history(tmp_path):
    log = FeedbackLog(tmp_path / "f.jsonl")
    log.append(Feedback(user="app", item="Heat", accepted=True, history=["Alien", "Fargo"]))
    assert log.read()[0].history == ("Alien", "Fargo")


def test_the_apps_feedback_tunes_the_next_round(tiny_assets, tmp_path):
    # The README's loop: the app records a choice, a tuning round learns from that log.
    from training_helpers import tiny_configs

    from instructrec_peft.config import DataArguments
    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.inference.app import USER, load_recommender, recommend_rows, record_choice
    from instructrec_peft.instructions.feedback_examples import feedback_examples
    from instructrec_peft.models.workspace import load_log
    from instructrec_peft.training.tuning import run_tuning

    first = tmp_path / "first"
    run_tuning(*tiny_configs(tiny_assets, first, max_steps=1))
    rec, items = load_recommender(str(first))
    liked = items[:2]
    rows = recommend_rows(rec, liked, k=2, explain=False)
    assert record_choice(rec, rows[0][1], False, liked).startswith(f"Recorded: rejected {rows[0][1]}")
    records = FeedbackLog(first / "feedback.jsonl").read()
    assert [(r.user, r.item, r.accepted, r.history) for r in records] == [(USER, rows[0][1], False, tuple(liked))]

    log = load_log(DataArguments(dataset=tiny_assets["data"]))
    examples = feedback_examples(records, leave_one_out(log), log.catalog)
    by_text = {text: item for item, text in log.catalog.texts.items()}
    assert examples["user"] == [USER] and examples["completion"] == ["No"]
    assert examples["history"] == [[by_text[t] for t in liked]]
    assert all(title in examples["prompt"][0] for title in liked)

    second = tmp_path / "second"
    result = run_tuning(*tiny_configs(tiny_assets, second, init_adapter=str(first),
                                      feedback_file=str(first / "feedback.jsonl"), max_steps=1))
    assert result.train_metrics["train_examples"] == len(result.trainer.train_dataset)
    assert (second / "adapter_model.safetensors").is_file()
