"""Export a tuning run for sharing, and push it to the Hugging Face Hub.

:func:`export_folder` copies what a user of the adapter needs (adapter weights and config,
tokenizer, template manifest, resolved configs, metrics, model card) into a clean folder and
leaves behind what they must not get: optimizer checkpoints, any pickle and any path of this
machine. Paths are rewritten: the base model becomes its Hub id in
``adapter_config.json``, the manifest and the configs (so ``Recommender.from_pretrained`` on the
Hub repo finds the base), and other absolute paths keep only their last component.

:func:`push_adapter` exports to a temporary folder and uploads it with ``huggingface_hub``
(``create_repo`` + ``upload_folder``): ``HF_ENDPOINT`` and the usual token sources (``HF_TOKEN``,
``huggingface-cli login``) apply; the token is passed through, never printed or written.
``merge=True`` also pushes the adapter merged into a full-precision copy of the base (merging into
4-bit weights would round the update away) to a repository of its own, ``<repo_id>-merged`` by
default: a folder holding both ``adapter_config.json`` and full weights would make
``AutoModelForCausalLM.from_pretrained`` load the adapter path instead.

``space_id`` also creates a Gradio Space that demos the adapter (:func:`.space.space_folder`).

    instructrec-peft push outputs/items-cpu me/smollm2-movielens-recommender --private [--with-app]
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from ..errors import ArgumentError
from ..files import write_text_atomic
from ..run_dir import RunDir
from .model_card import base_model_id, write_card
from .space import space_folder

__all__ = ["export_folder", "merge_into", "push_adapter"]


def _scrub(value):
    """Absolute paths -> their last component (they mean nothing elsewhere and reveal this machine)."""
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str) and (os.path.isabs(value) or value.startswith("~")):
        return Path(value).name
    return value


def _write_json(path: Path, payload: dict) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def export_folder(output_dir: str | Path, destination: str | Path, *, repo_id: str | None = None,
                  base_model: str | None = None, license: str | None = None, dataset_id: str | None = None) -> Path:
    """Write the shareable copy of ``output_dir`` into ``destination`` (which must not exist yet)."""
    run, destination = RunDir(output_dir), Path(destination)
    output_dir = run.path
    run.open().require_adapter("share: ")
    base = base_model_id(output_dir, base_model)
    if base is None:
        raise ArgumentError(f"{output_dir}: the base model was loaded from a local folder, which a Hub user cannot "
                            "load; pass its Hub id (base_model_id / --base-model-id)")
    destination.mkdir(parents=True)
    for name in run.exported_files():
        if (output_dir / name).is_file():
            shutil.copy2(output_dir / name, destination / name)

    shared = RunDir(destination)
    adapter = shared.read_json(shared.adapter_config.name)
    _write_json(shared.adapter_config, {**adapter, "base_model_name_or_path": base})
    _write_json(shared.manifest, {**shared.read_json(shared.MANIFEST), "base_model": base})
    config = shared.read_json(shared.CONFIG)
    model = dict(config.get("model") or {}, model_name_or_path=base, base_model_id=base, gguf_file=None)
    _write_json(shared.config, _scrub({**config, "model": model}))
    write_card(destination, repo_id=repo_id, base_model=base, license=license, dataset_id=dataset_id)
    shared.write_record()  # the rewritten files are what a Hub user's loader checks
    return destination


def merge_into(output_dir: str | Path, destination: str | Path, *, adapter_repo: str | None = None,
               base_model: str | None = None, trust_remote_code: bool = False) -> Path:
    """Save the adapter merged into a full-precision base (``save_pretrained``, safetensors), with a card."""
    from ..config import saved_configs
    from ..models.loading import load_adapter, load_tokenizer

    args = replace(saved_configs(output_dir, trust_remote_code=trust_remote_code)[0], quantization="none")
    if args.peft_method != "lora":
        raise ArgumentError(f"only LoRA adapters merge into the base weights; this one is {args.peft_method}")
    model = load_adapter(str(output_dir), model_args=args).merge_and_unload()
    model.save_pretrained(destination, safe_serialization=True)
    load_tokenizer(args).save_pretrained(destination)
    _merged_card(Path(destination), adapter_repo, base_model_id(output_dir, base_model))
    return Path(destination)


def _merged_card(destination: Path, adapter_repo: str | None, base: str | None) -> None:
    from huggingface_hub import ModelCard, ModelCardData

    data = ModelCardData(base_model=base, base_model_relation="merge" if base else None, library_name="transformers",
                         pipeline_tag="text-generation", tags=["recommendation", "instructrec", "merged-lora"])
    source = f"[{adapter_repo}](https://huggingface.co/{adapter_repo})" if adapter_repo else "a LoRA adapter"
    body = (f"---\n{data.to_yaml()}\n---\n\n# {destination.name}\n\nThe recommender adapter {source} merged into a "
            f"full-precision copy of `{base or 'its base model'}` by instructrec-peft: a plain causal LM, no PEFT "
            "needed.\n\n```python\nfrom transformers import AutoModelForCausalLM\n\nmodel = "
            "AutoModelForCausalLM.from_pretrained(\"<this repo>\")\n```\n\nPrompts must be rendered as in training: "
            "see the adapter's card and `instructrec_manifest.json`.\n")
    write_text_atomic(RunDir(destination).card, str(ModelCard(body)))


def push_adapter(output_dir: str | Path, repo_id: str, *, base_model: str | None = None, private: bool | None = None,
                 revision: str | None = None, commit_message: str | None = None, token: str | None = None,
                 license: str | None = None, dataset_id: str | None = None, merge: bool = False,
                 merged_repo_id: str | None = None, space_id: str | None = None, trust_remote_code: bool = False):
    """Export ``output_dir`` and upload it to ``repo_id``; returns the ``CommitInfo`` (of the
    adapter repository; with ``merge`` the merged model goes to ``merged_repo_id``; with
    ``space_id`` a Gradio Space demoing the adapter goes there, see :mod:`.space`)."""
    from huggingface_hub import HfApi

    for name, value in (("repo id", repo_id), ("space id", space_id), ("merged repo id", merged_repo_id)):
        if value is not None and value.count("/") != 1:
            raise ArgumentError(f"{name} {value!r}: expected namespace/name")
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="instructrec-export-") as tmp:
        folder = export_folder(output_dir, Path(tmp) / "export", repo_id=repo_id, base_model=base_model,
                               license=license, dataset_id=dataset_id)
        uploads = [(repo_id, folder, "model")]
        if merge:
            merged = merge_into(output_dir, Path(tmp) / "merged", adapter_repo=repo_id, base_model=base_model,
                                trust_remote_code=trust_remote_code)
            uploads.append((merged_repo_id or f"{repo_id}-merged", merged, "model"))
        if space_id:
            uploads.append((space_id, space_folder(output_dir, repo_id, Path(tmp) / "space"), "space"))
        infos = []
        for target, path, repo_type in uploads:
            api.create_repo(target, private=private, exist_ok=True, repo_type=repo_type,
                            space_sdk="gradio" if repo_type == "space" else None)
            # The Space always runs from main; only the adapter and merged model follow ``revision``.
            branch = revision if repo_type == "model" else None
            if branch and branch != "main":
                api.create_branch(target, branch=branch, exist_ok=True)
            infos.append(api.upload_folder(repo_id=target, folder_path=path, revision=branch, repo_type=repo_type,
                                           commit_message=commit_message or "Upload instructrec-peft adapter"))
        return infos[0]
