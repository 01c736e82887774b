"""`accelerate launch recipes/tune.py` end to end, in subprocesses, on CPU."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from training_helpers import yaml_config

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ["README.md", "adapter_config.json", "adapter_model.safetensors", "all_results.json", "eval_results.json",
            "instructrec_config.json", "instructrec_manifest.json", "instructrec_run.json", "tokenizer.json",
            "tokenizer_config.json", "train_results.json", "trainer_state.json"]


@pytest.mark.parametrize("launch, world_size", [
    (["--cpu", "--num_processes", "1"], 1),
    # `--multi_gpu` on a machine without a GPU runs DDP over gloo; `--cpu --num_processes 2` would
    # silently start one process, so the world size is asserted from what the run wrote.
    (["--multi_gpu", "--num_processes", "2"], 2),
])
def test_accelerate_launch_writes_the_adapter(tiny_assets, tmp_path, launch, world_size):
    out = tmp_path / "out"
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml_config(tiny_assets, out, eval_strategy="steps", eval_steps=3))
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "--main_process_port", str(29500 + world_size + os.getpid() % 1000), *launch,
           str(ROOT / "recipes" / "tune.py"), str(config)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == EXPECTED
    assert json.loads((out / "train_results.json").read_text())["world_size"] == world_size
    evals = json.loads((out / "eval_results.json").read_text())
    assert evals["eval_users"] == 6  # every validation user ranked once across the processes
    # The package's own info messages show at the run's log level (info by default).
    assert "[INFO|instructrec_peft.models.loading] PEFT lora:" in result.stderr
