"""The instructrec-peft command, in-process and as the installed console script."""

import subprocess
import sys
from pathlib import Path

import pytest
from training_helpers import yaml_config

from instructrec_peft.cli import main
from instructrec_peft.config import DataArguments
from instructrec_peft.data.split import leave_one_out
from instructrec_peft.models.workspace import load_log


@pytest.fixture(scope="module")
def tuned(tiny_assets, tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    config = root / "tiny.yaml"
    config.write_text(yaml_config(tiny_assets, root / "out", max_steps=1))
    assert main(["tune", "--config", str(config), "--max_steps", "2"]) == 0
    return root / "out", config


def test_tune_takes_the_config_as_argument_or_flag_and_overrides(tuned, capsys):
    out, config = tuned
    assert (out / "adapter_model.safetensors").is_file() and (out / "README.md").is_file()
    import json

    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 2  # the override won
    assert main(["tune", str(config), "--config", str(config)]) == 2
    assert "give the config once" in capsys.readouterr().err
    assert main(["tune", "--config"]) == 2


def test_recommend_prints_k_ranked_items_outside_the_history(tuned, tiny_assets, capsys):
    out, _ = tuned
    log = load_log(DataArguments(dataset=tiny_assets["data"]))
    user = leave_one_out(log).evaluated[0]
    history = [log.catalog.text(i) for i in leave_one_out(log).history(user, "test")][-3:]
    assert main(["recommend", str(out), "--history", *history, "-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(". ")[0] for line in lines] == ["1", "2", "3"]
    titles = [line.split(". ", 1)[1].rsplit("  (", 1)[0] for line in lines]
    scores = [float(line.rsplit("(", 1)[1].rstrip(")")) for line in lines]
    assert len(set(titles)) == 3 and not set(titles) & set(history)
    assert all(t in set(log.catalog.texts.values()) for t in titles) and scores == sorted(scores, reverse=True)


def test_errors_of_ours_are_one_line_and_status_2(tmp_path, capsys):
    assert main(["recommend", str(tmp_path / "nowhere"), "--history", "Heat (1995)"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nowhere" in err and len(err.strip().splitlines()) == 1


def test_the_console_script_is_installed():
    script = Path(sys.executable).parent / "instructrec-peft"
    run = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for command in ("fetch", "tune", "recommend", "push"):
        assert command in run.stdout


def test_the_evaluate_commands_choices_are_the_protocols_and_groupings():
    from instructrec_peft.commands.evaluate import GROUP_NAMES, PROTOCOL_NAMES
    from instructrec_peft.evaluation.breakdown import GROUPS
    from instructrec_peft.evaluation.protocols import PROTOCOLS

    assert PROTOCOL_NAMES == tuple(PROTOCOLS) and GROUP_NAMES == GROUPS


def test_evaluate_prints_the_adapters_row_beside_popularity(tuned, capsys):
    out, _ = tuned
    assert main(["evaluate", "--adapter", str(out), "--users", "4"]) == 0
    printed = capsys.readouterr().out
    assert "loo-random-10, 4 test users, template p1-i0-matching-1" in printed
    assert "| popularity | 4 |" in printed and f"| adapter {out} | 4 |" in printed


def test_packaged_configs_are_found_by_name_and_tune_help_is_short(capsys, tmp_path, monkeypatch):
    from instructrec_peft.cli import main
    from instructrec_peft.config import parse_config
    from instructrec_peft.config.named_configs import NAMED_DIR, named_configs

    monkeypatch.chdir(tmp_path)  # any folder: the configs come with the package
    assert sorted(named_configs()) == ["demo-cpu", "gpt2-consumer-gpu", "gpt2-multi-gpu", "items-cpu", "items-ml1m",
                                       "rerank-cpu"]
    by_name = parse_config(["items-cpu", "--max_steps", "3"])
    assert by_name == parse_config([str(NAMED_DIR / "items-cpu.yaml"), "--max_steps", "3"])
    assert by_name[2].max_steps == 3 and by_name[1].item_tokens
    with pytest.raises(ValueError, match=r"'item-cpu' is neither a packaged config \(demo-cpu, "):
        parse_config(["item-cpu"])
    assert main(["tune", "--help"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0] == "usage: instructrec-peft tune CONFIG [--field value ...]" and len(shown) < 25
    assert "  items-cpu          Items as tokens on a 2-core CPU" in shown
