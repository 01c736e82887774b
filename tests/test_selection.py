import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from training_helpers import yaml_config

from instructrec_peft.config import parse_config
from instructrec_peft.training.selection import cross_validate_mixes, user_folds

ROOT = Path(__file__).resolve().parents[1]


def test_user_folds_partition_the_users():
    users = [f"u{i}" for i in range(10)]
    folds = user_folds(users, 3, seed=1)
    assert sorted(u for f in folds for u in f) == sorted(users) and [len(f) for f in folds] == [4, 3, 3]
    assert folds == user_folds(users, 3, seed=1) != user_folds(users, 3, seed=2)
    with pytest.raises(ValueError, match="folds must be >= 2"):
        user_folds(users, 1)


def test_three_fold_selection_writes_the_winning_mix(tiny_assets, tmp_path):
    config = tmp_path / "base.yaml"
    config.write_text(yaml_config(tiny_assets, tmp_path / "unused", max_steps=2))
    out = tmp_path / "selected.yaml"
    run = subprocess.run([sys.executable, str(ROOT / "recipes" / "select_templates.py"), str(config), "--folds", "3",
                          "--mixes", "matching=1", "matching=1,pointwise=1", "--write", str(out)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = [line for line in run.stdout.splitlines() if line.startswith("| matching")]
    assert len(rows) == 2 and all(len(r.split("|")[4].split(",")) == 3 for r in rows)  # three folds each
    best = run.stdout.split("best: task_mix=")[1].split()[0]
    assert yaml.safe_load(out.read_text())["task_mix"] == best
    assert not (tmp_path / "unused").exists()  # short runs save nothing


def test_cross_validation_is_deterministic(tiny_assets, tmp_path):
    config = tmp_path / "base.yaml"
    config.write_text(yaml_config(tiny_assets, tmp_path / "unused", max_steps=1))
    configs = parse_config([str(config)])
    first = cross_validate_mixes(configs, ["matching=1"], folds=2, workdir=tmp_path, progress=False)
    second = cross_validate_mixes(configs, ["matching=1"], folds=2, workdir=tmp_path, progress=False)
    assert first[0].scores == second[0].scores and len(first[0].scores) == 2
