"""Loading an adapter never turns remote code on: only the caller's own argument may.

The attack: a run folder (or a Hub adapter) whose ``instructrec_config.json`` says
``trust_remote_code: true`` and names a base whose ``config.json`` has an ``auto_map`` pointing at
a Python file. Loading it must not import that file unless the caller opted in.
"""

import json
import shutil
from pathlib import Path

import pytest

from instructrec_peft.errors import ConfigError
from instructrec_peft.run_dir import RunDir

EVIL = """
from pathlib import Path
Path({marker!r}).write_text("the base model's code ran")
from transformers import GPT2Config as EvilConfig, GPT2LMHeadModel as EvilModel
"""


@pytest.fixture(scope="module")
def adapter(tiny_assets, tmp_path_factory):
    from training_helpers import tiny_configs

    from instructrec_peft.training.tuning import run_tuning

    out = tmp_path_factory.mktemp("adapter") / "out"
    run_tuning(*tiny_configs(tiny_assets, out, max_steps=1))
    return out


def hostile(adapter: Path, tiny_assets, tmp_path: Path, saved_flag: bool) -> tuple[Path, Path]:
    """A copy of ``adapter`` pointing at a base that ships code writing ``marker`` when imported."""
    base, marker = tmp_path / "evil-base", tmp_path / "ran.txt"
    shutil.copytree(tiny_assets["gpt2"], base)
    (base / "evil.py").write_text(EVIL.format(marker=str(marker)))
    config = json.loads((base / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModelForCausalLM": "evil.EvilModel"}
    (base / "config.json").write_text(json.dumps(config))
    folder = tmp_path / "adapter"
    shutil.copytree(adapter, folder)
    saved = json.loads((folder / "instructrec_config.json").read_text())
    saved["model"].update(model_name_or_path=str(base), trust_remote_code=saved_flag)
    (folder / "instructrec_config.json").write_text(json.dumps(saved))
    RunDir(folder).write_record()  # the run record guards against torn saves, not against an author
    return folder, marker


def test_a_saved_flag_is_refused_with_how_to_opt_in_and_runs_nothing(adapter, tiny_assets, tmp_path):
    from instructrec_peft.inference.recommender import Recommender

    folder, marker = hostile(adapter, tiny_assets, tmp_path, saved_flag=True)
    with pytest.raises(ConfigError, match=r"instructrec_config\.json: the adapter was tuned with trust_remote_code: "
                       r"true.*evil-base.*opt in yourself: trust_remote_code=True \(command line: "
                       r"--trust_remote_code\)"):
        Recommender.from_pretrained(str(folder))
    assert not marker.exists()


@pytest.mark.parametrize("command", [["recommend", "{folder}", "--history", "Film A0"],
                                     ["evaluate", "--adapter", "{folder}", "--users", "2"]])
def test_the_commands_refuse_it_in_one_line(adapter, tiny_assets, tmp_path, capsys, command):
    from instructrec_peft.cli import main

    folder, marker = hostile(adapter, tiny_assets, tmp_path, saved_flag=True)
    assert main([part.format(folder=folder) for part in command]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and "--trust_remote_code" in err
    assert not marker.exists()


def test_without_the_flag_the_base_code_is_not_imported(adapter, tiny_assets, tmp_path):
    from instructrec_peft.inference.recommender import Recommender

    folder, marker = hostile(adapter, tiny_assets, tmp_path, saved_flag=False)
    rec = Recommender.from_pretrained(str(folder))  # the base's own (GPT-2) classes, not its shipped ones
    assert type(rec.model.get_base_model()).__name__ == "GPT2LMHeadModel"
    assert not marker.exists()


def test_the_callers_own_opt_in_is_what_turns_it_on(adapter, tiny_assets, tmp_path):
    # The other side of the tests above: the hostile folder really is a code-execution vector.
    from instructrec_peft.inference.recommender import Recommender

    folder, marker = hostile(adapter, tiny_assets, tmp_path, saved_flag=True)
    try:
        Recommender.from_pretrained(str(folder), trust_remote_code=True)
    except Exception:
        pass  # the stand-in classes need not load; what matters is that the file was imported
    assert marker.read_text() == "the base model's code ran"
