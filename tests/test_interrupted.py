"""A killed training run loses nothing: resume from its last complete checkpoint, same result."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from training_helpers import tiny_configs, yaml_config

from instructrec_peft.training.trainer import InstructRecTrainer
from instructrec_peft.training.tuning import complete_checkpoint, latest_checkpoint, run_tuning

TESTS = Path(__file__).resolve().parent
COMMON = dict(max_steps=6, save_strategy="steps", save_steps=2, save_total_limit=None)

# Trains in a child process; right after checkpoint-2 is on disk it says so and waits to be killed.
CHILD = textwrap.dedent("""
    import sys, time
    from transformers import TrainerCallback
    from instructrec_peft.training import trainer as module
    from instructrec_peft.config import parse_config
    from instructrec_peft.training.tuning import run_tuning

    class Hold(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if state.global_step == 2:
                print("SAVED", flush=True)
                time.sleep(600)

    init = module.InstructRecTrainer.__init__
    def patched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.add_callback(Hold())
    module.InstructRecTrainer.__init__ = patched
    run_tuning(*parse_config([sys.argv[1]]))
""")


def test_sigkill_after_a_checkpoint_then_resume_matches_an_uninterrupted_run(tiny_assets, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(yaml_config(tiny_assets, tmp_path / "killed", **COMMON))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(config)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        for line in child.stdout:
            if line.strip() == "SAVED":
                break
        else:
            pytest.fail(f"the training child ended before checkpoint-2 (exit code {child.wait()})")
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    killed = tmp_path / "killed"
    assert not (killed / "adapter_model.safetensors").exists()  # no final adapter from a killed run
    assert latest_checkpoint(killed) == str(killed / "checkpoint-2")

    run_tuning(*tiny_configs(tiny_assets, killed, resume_from_checkpoint="latest", **COMMON))
    run_tuning(*tiny_configs(tiny_assets, tmp_path / "straight", **COMMON))
    resumed = load_file(killed / "adapter_model.safetensors")
    straight = load_file(tmp_path / "straight" / "adapter_model.safetensors")
    assert resumed.keys() == straight.keys()
    for key in straight:
        assert torch.allclose(resumed[key], straight[key], atol=1e-6), key
    state = json.loads((killed / "trainer_state.json").read_text())
    assert state["global_step"] == 6


def test_incomplete_checkpoints_are_skipped_or_refused(tmp_path):
    for step in (2, 4, 6):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "adapter_model.safetensors").write_bytes(b"x")
    (tmp_path / "checkpoint-2" / "trainer_state.json").write_text('{"global_step": 2}')
    (tmp_path / "checkpoint-6" / "trainer_state.json").write_text("")  # a full disk stopped this very write
    assert latest_checkpoint(tmp_path) == str(tmp_path / "checkpoint-2")  # 4 and 6 were cut short
    with pytest.raises(ValueError, match=r"checkpoint-4 is incomplete \(no trainer_state.json, or files"):
        complete_checkpoint(tmp_path / "checkpoint-4")
    with pytest.raises(ValueError, match=r"checkpoint-6 is incomplete \(an unreadable trainer_state.json"):
        complete_checkpoint(tmp_path / "checkpoint-6")
    with pytest.raises(ValueError, match="no complete checkpoint in"):
        latest_checkpoint(tmp_path / "checkpoint-4")


def test_a_save_that_fails_midway_leaves_no_adapter_that_loads(tiny_assets, tmp_path, monkeypatch):
    def broken(self, output_dir):
        raise OSError("disk full")

    monkeypatch.setattr(InstructRecTrainer, "save_extras", broken)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        run_tuning(*tiny_configs(tiny_assets, out, max_steps=1))
    assert sorted(p.name for p in out.iterdir()) == []  # no weights, no staging folder left behind


def test_resuming_from_the_final_steps_checkpoint_trains_no_further(tiny_assets, tmp_path):
    # 12 steps make an epoch here, so step 8 is mid-epoch: Trainer skipped 8 batches and took a
    # ninth step. A kill during the final save leaves exactly this: checkpoint-8, no final adapter.
    final = dict(max_steps=8, save_strategy="steps", save_steps=4, save_total_limit=None)
    killed = tmp_path / "killed"
    run_tuning(*tiny_configs(tiny_assets, killed, **final))
    straight = load_file(killed / "adapter_model.safetensors")
    for path in killed.iterdir():
        if path.is_file():
            path.unlink()
    assert latest_checkpoint(killed) == str(killed / "checkpoint-8")
    result = run_tuning(*tiny_configs(tiny_assets, killed, resume_from_checkpoint="latest", **final))
    assert result.trainer.state.global_step == 8
    resumed = load_file(killed / "adapter_model.safetensors")
    assert resumed.keys() == straight.keys()
    assert all(torch.equal(resumed[key], straight[key]) for key in straight)
    assert json.loads((killed / "trainer_state.json").read_text())["global_step"] == 8


def test_a_commit_never_removes_a_file_outside_its_folder(tmp_path):
    # The previous run's record names the files a new commit removes; a record naming a path
    # outside the folder must not make a save delete it.
    from instructrec_peft.run_dir import RunDir

    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    run = RunDir(tmp_path / "run")
    with run.commit() as staging:
        (staging / "adapter_config.json").write_text("{}")
    record = json.loads((run.path / "instructrec_run.json").read_text())
    record["files"]["../precious.txt"] = "0" * 64
    (run.path / "instructrec_run.json").write_text(json.dumps(record))
    (run.path / "feedback.jsonl").write_text("{}\n")  # the app's log in the folder: not a run file
    with run.commit() as staging:
        (staging / "adapter_model.safetensors").write_bytes(b"x")
    assert outside.read_text() == "keep me"
    assert sorted(p.name for p in run.path.iterdir()) == ["adapter_model.safetensors", "feedback.jsonl",
                                                         "instructrec_run.json"]
