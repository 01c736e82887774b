"""The wheel is the product: built and installed without ``-e``, it tunes and writes its card
from a directory outside the checkout."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TUNE = """
import sys
from pathlib import Path

import instructrec_peft
from instructrec_peft.config import parse_config
from instructrec_peft.training.tuning import run_tuning

site = Path(sys.argv[2]).resolve()
assert Path(instructrec_peft.__file__).resolve().is_relative_to(site), instructrec_peft.__file__
run_tuning(*parse_config([sys.argv[1]]))
"""


def test_the_installed_wheel_tunes_and_writes_its_card_outside_the_checkout(tiny_assets, tmp_path):
    from training_helpers import yaml_config
    from wheel_build import build_wheel, install_wheel

    site, work = tmp_path / "site", tmp_path / "work"
    wheel = build_wheel(tmp_path)
    from instructrec_peft._version import __version__

    assert wheel.name.split("-")[1] == __version__  # pyproject reads the one version source
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in ("instructrec_peft/hub/adapter_card.md", "instructrec_peft/instructions/templates.json",
                 "instructrec_peft/evaluation/metrics/ranking/ranking.py",
                 "instructrec_peft/config/named/items-cpu.yaml"):
        assert data in names
    packaged = {n for n in names if n.startswith("instructrec_peft/") and n.endswith(".py")}
    assert packaged == {str(p.relative_to(ROOT)) for p in (ROOT / "instructrec_peft").rglob("*.py")}
    # The library only: the reports' machinery (benchmarks/), recipes and tests stay in the checkout.
    assert {n.split("/")[0] for n in names} == {"instructrec_peft", wheel.name.split("-")[0] + "-"
                                                + wheel.name.split("-")[1] + ".dist-info"}
    install_wheel(wheel, site)
    work.mkdir()
    config = work / "tiny.yaml"
    config.write_text(yaml_config(tiny_assets, work / "out", max_steps=1))
    run = subprocess.run([sys.executable, "-c", TUNE, str(config), str(site)], cwd=work, capture_output=True,
                         text=True, env={"PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
                                         "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr[-3000:]
    card = (work / "out" / "README.md").read_text()
    assert card.startswith("---\n") and "library_name: peft" in card
    assert (work / "out" / "adapter_model.safetensors").is_file()
