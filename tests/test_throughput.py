import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from benchmarks.throughput import body_params, lora_train_flops, matmul_flops
from instructrec_peft.data.synthetic import synthetic_log

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_body_params_count_the_linear_layers_of_the_blocks(tiny_assets, arch):
    from transformers import AutoModelForCausalLM
    from transformers.pytorch_utils import Conv1D

    model = AutoModelForCausalLM.from_pretrained(tiny_assets[arch])
    blocks = model.transformer.h if arch == "gpt2" else model.model.layers
    linear = sum(m.weight.numel() for m in blocks.modules() if isinstance(m, (torch.nn.Linear, Conv1D)))
    assert body_params(model.config) == linear == (2 * (4 * 64 * 64 + 2 * 64 * 256) if arch == "gpt2" else
                                                   2 * (2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 128))


def test_lora_train_flops_by_hand(tiny_assets):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(tiny_assets["llama"])  # d 64, 2 layers, 4 heads, vocab V
    body, vocab = body_params(config), config.vocab_size
    # One sequence of 3 tokens, 1 supervised, 100 LoRA parameters:
    # 3 * (4 body + 600) + 12 * 2 * 64 * (1 + 2 + 3) + 4 * 64 * V
    expected = 3 * (4 * body + 600) + 12 * 2 * 64 * 6 + 4 * 64 * vocab
    assert lora_train_flops(config, [3], [1], 100) == expected
    assert lora_train_flops(config, [3, 3], [1, 1], 100) == 2 * expected
    # The item-token path: the projection onto 50 trained item rows instead of the vocabulary.
    items = 3 * (4 * body + 600) + 12 * 2 * 64 * 6 + 6 * 64 * 50
    assert lora_train_flops(config, [3], [1], 100, head_rows=50, head_trained=True) == items


def test_matmul_flops_is_a_finite_rate():
    for dtype in (torch.float32, torch.bfloat16):
        rate = matmul_flops(size=64, repeats=2, dtype=dtype)
        assert math.isfinite(rate) and rate > 1e6


def test_synthetic_logs_are_deterministic_and_sized():
    log = synthetic_log(2_000, per_user=50, seed=3)
    frame = log.interactions
    assert len(frame) == 2_000 and frame["user_id"].nunique() == 40
    assert (frame.groupby("user_id")["item_id"].nunique() == 50).all()  # distinct items per user
    # The catalogue: max(2 x per_user, interactions / 20) items.
    assert set(frame["item_id"]) <= set(log.catalog.texts) and len(log.catalog) == 100
    assert frame.equals(synthetic_log(2_000, per_user=50, seed=3).interactions)
    assert not frame.equals(synthetic_log(2_000, per_user=50, seed=4).interactions)
    with pytest.raises(ValueError, match=r"interactions \(10\) must be at least per_user \(50\)"):
        synthetic_log(10, per_user=50)


@pytest.mark.slow
def test_throughput_benchmark_runs_end_to_end_with_tiny_budgets(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "recipes" / "bench_throughput.py"), "--smoke"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    report = (ROOT / "outputs" / "throughput-smoke.md").read_text()
    for row in ("ours + completion-only + padding-free", "TRL SFTTrainer", "| shared_prefix |", "| 2,000 |"):
        assert row in report


@pytest.mark.slow
def test_benchmark_runs_a_baseline_and_a_tuning_section_with_tiny_budgets():
    run = subprocess.run([sys.executable, str(ROOT / "recipes" / "benchmark.py"), "--smoke", "--sections",
                          "baselines", "items-text"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    report = (ROOT / "outputs" / "benchmark-smoke.md").read_text()
    expected = ("| SASRec | 8 |", "| item-token LM, title init | 8 |",
                "## Training (each tuning run in its own process)")
    assert [row for row in expected if row not in report] == []
