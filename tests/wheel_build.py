"""Build the package's wheel from a copy of the checkout and install it into a folder of its own."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_wheel(tmp_path: Path) -> Path:
    """The wheel, built from a copy: an in-tree build would leave build/ in the checkout, and a
    stale build/ there could slip old modules into the wheel. benchmarks/ comes along, so that the
    packaging itself is what leaves it out."""
    dist, source = tmp_path / "dist", tmp_path / "source"
    for folder in ("instructrec_peft", "benchmarks"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                            "-w", str(dist), str(source)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = dist.glob("instructrec_peft-*.whl")
    return wheel


def install_wheel(wheel: Path, site: Path) -> Path:
    """``wheel`` installed into ``site`` (its dependencies are the running environment's); the
    ``instructrec-peft`` command lands in ``site/bin``."""
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site),
                              str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    return site
