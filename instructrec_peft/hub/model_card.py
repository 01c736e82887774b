"""Model cards for tuned adapters, rendered from ``model_cards/adapter.md`` with ``huggingface_hub``.

The card is built from what a run leaves in its output directory (resolved configs, template
manifest, adapter config, metrics) and written as ``README.md``, so the Hub shows it and
``ModelCard.load`` parses it. Metadata: ``base_model`` (always a Hub id: PEFT records the local
folder a base was loaded from, which means nothing to anyone else), ``library_name: peft``,
``pipeline_tag``, tags, datasets (when the data has a Hub id), license and a ``model-index`` with the run's
ranking metrics.
A test-split comparison (zero-shot, baselines) is included when the run wrote
``comparison.json`` beside the adapter.

    python -m instructrec_peft.hub.model_card outputs/demo-cpu                  # (re)write README.md
    python -m instructrec_peft.hub.model_card outputs/demo-cpu --repo-id me/my-recommender
"""

from __future__ import annotations

import argparse
import json
import os
import re
from importlib import metadata
from pathlib import Path

from ..errors import ArgumentError
from ..files import write_text_atomic
from ..instructions.vocabulary import get_vocabulary
from ..run_dir import RunDir

__all__ = ["CARD_TEMPLATE", "is_hub_id", "base_model_id", "save_comparison", "build_card",
           "write_card"]

# Package data, so a pip-installed run writes its card too; model_cards/adapter.md in a checkout
# is a link to it, the file to edit.
CARD_TEMPLATE = Path(__file__).with_name("adapter_card.md")
DATASET_LABELS = {"ml-100k": ("MovieLens 100K", "movielens")}
METRIC_ORDER = ("hr@1", "hr@3", "hr@5", "hr@10", "ndcg@3", "ndcg@5", "ndcg@10", "mrr")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
EXAMPLE_HISTORY = {"movie": ["Toy Story (1995)", "Heat (1995)", "Fargo (1996)", "Casablanca (1942)"]}


def is_hub_id(value: str | None) -> bool:
    """``namespace/name`` (or a bare name) that is not a folder on this machine."""
    if not value or value.startswith((".", "/", "~")) or "\\" in value or os.path.exists(value):
        return False
    return bool(_HUB_ID.match(value))


def base_model_id(output_dir: str | Path, override: str | None = None) -> str | None:
    """The base model's Hub id: ``override``, else ``base_model_id`` of the run's config, else the
    loaded name when it is a Hub id; ``None`` when the base came from a local folder."""
    if override:
        if not is_hub_id(override):
            raise ArgumentError(f"base model {override!r} is not a Hub id (namespace/name)")
        return override
    model = RunDir(output_dir).read_json(RunDir.CONFIG).get("model") or {}
    for candidate in (model.get("base_model_id"), model.get("model_name_or_path")):
        if candidate == "demo":
            from ..data.assets import DEMO_MODEL_HUB_ID

            return DEMO_MODEL_HUB_ID
        if is_hub_id(candidate):
            return candidate
    return None


def _versions() -> dict[str, str]:
    out = {}
    for name in ("instructrec_peft", "transformers", "peft", "torch", "accelerate", "datasets", "huggingface_hub",
                 "bitsandbytes"):
        try:
            out[name] = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:
            continue
    return out


def _metrics(values: dict, prefix: str = "") -> dict[str, float]:
    found = {k[len(prefix):]: float(v) for k, v in values.items() if k.startswith(prefix)}
    return {k: found[k] for k in METRIC_ORDER if k in found}


def _method(model: dict, adapter: dict) -> tuple[str, str, str]:
    """(tag, title, one-line summary) of the PEFT method."""
    if (adapter.get("peft_type") or "").upper() == "PROMPT_TUNING":
        return "prompt-tuning", "prompt-tuning", f"{adapter.get('num_virtual_tokens')} virtual tokens (prompt tuning)"
    modules = adapter.get("target_modules") or []
    # PEFT saves "all-linear" as every adapted module's full path; the card names each kind once.
    modules = sorted({m.rsplit(".", 1)[-1] for m in modules}) if isinstance(modules, (list, set, tuple)) \
        else [modules]
    summary = (f"LoRA r={adapter.get('r')}, alpha={adapter.get('lora_alpha')}, dropout={adapter.get('lora_dropout')} "
               f"on {', '.join(f'`{m}`' for m in modules)}")
    if model.get("quantization") in ("4bit", "8bit"):
        return "qlora", f"QLoRA ({model['quantization']})", summary
    return "lora", "LoRA", summary


def base_dtype(model: dict) -> str | None:
    """The torch dtype name of an unquantised base stored in half precision (``precision: bf16``),
    which the card's plain-PEFT snippet loads it in; ``None`` for float32 or a quantised base."""
    dtype = model.get("dtype")
    return dtype if model.get("quantization", "none") == "none" and dtype in ("bfloat16", "float16") else None


def bnb_config_source(model: dict) -> str | None:
    """Python source of the ``BitsAndBytesConfig`` the run loaded its base with (``None`` in full
    precision): the card's plain-PEFT snippet loads the base the same way, so its scores are the
    ones the card reports."""
    quantization = model.get("quantization", "none")
    if quantization == "8bit":
        return "BitsAndBytesConfig(load_in_8bit=True)"
    if quantization != "4bit":
        return None
    from ..models.loading import resolve_dtype

    dtype = str(resolve_dtype(model.get("bnb_4bit_compute_dtype", "auto"))).removeprefix("torch.")
    return (f'BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="{model.get("bnb_4bit_quant_type", "nf4")}", '
            f'bnb_4bit_use_double_quant={bool(model.get("bnb_4bit_use_double_quant", True))}, '
            f"bnb_4bit_compute_dtype=torch.{dtype})")


def build_card(output_dir: str | Path, *, repo_id: str | None = None, base_model: str | None = None,
               license: str | None = None, dataset_id: str | None = None, template_path: str | Path | None = None,
               name: str | None = None):
    """The :class:`huggingface_hub.ModelCard` of the run in ``output_dir`` (``name``: the run's name,
    default the folder's, for a card rendered in a staging folder)."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    output_dir = Path(output_dir)
    run = RunDir(output_dir)
    config = run.read_json(run.CONFIG)
    manifest = run.read_json(run.MANIFEST)
    adapter = run.read_json(run.adapter_config.name)
    evals = run.read_json(run.EVAL_RESULTS, required=False)
    train = run.read_json(run.TRAIN_RESULTS, required=False)
    comparison = run.read_json(run.COMPARISON, required=False) or None
    model, data, training = config.get("model") or {}, config.get("data") or {}, config.get("training") or {}

    base = base_model_id(output_dir, base_model)
    tag, title, adapter_summary = _method(model, adapter)
    dataset = str(data.get("dataset") or "interactions")
    dataset_label, dataset_tag = DATASET_LABELS.get(dataset, (Path(dataset).name, None))
    vocabulary = get_vocabulary(manifest.get("vocabulary", "movie"))
    repo_id = repo_id or f"<namespace>/{name or output_dir.name}"
    protocol = f"loo-random-{manifest.get('num_candidates', 10)}"
    validation = _metrics(evals, "eval_")

    def results(metrics: dict[str, float], config: str, split: str) -> list:
        return [EvalResult(task_type="text-generation", task_name="Recommendation",
                           dataset_type=dataset_tag or dataset_label, dataset_name=dataset_label,
                           dataset_config=config,
                           dataset_split=split, metric_type=k, metric_name=k.upper(), metric_value=v)
                for k, v in metrics.items()]

    eval_results = results(validation, protocol, "validation")
    if comparison and comparison.get("adapter_row") in comparison.get("rows", {}):
        eval_results += results(_metrics(comparison["rows"][comparison["adapter_row"]]),
                                comparison.get("protocol", protocol), comparison.get("split", "test"))
    tags = ["recommendation", "instructrec", "instruction-tuning", tag, *([dataset_tag] if dataset_tag else [])]
    card_data = ModelCardData(
        base_model=base, library_name="peft", pipeline_tag="text-generation", tags=tags, license=license,
        datasets=[dataset_id] if dataset_id else None, model_name=repo_id.split("/")[-1],
        eval_results=eval_results or None)

    mix = manifest.get("task_mix") or {}
    total = sum(mix.values()) or 1.0
    evaluation = manifest.get("eval_template")
    def use(t):
        if t["name"] != evaluation:
            return "training"
        return "training + evaluation" if t["task"] in mix else "evaluation"

    templates = [{**t, "use": use(t)} for t in manifest.get("templates", [])]
    steps, batch = training.get("max_steps"), training.get("per_device_train_batch_size")
    accumulation = training.get("gradient_accumulation_steps", 1)
    hyper = [f"{steps} steps" if steps and steps > 0 else f"{training.get('num_train_epochs')} epochs",
             f"batch {batch} x {accumulation} accumulation per device",
             f"learning rate {training.get('learning_rate')} "
             f"({training.get('lr_scheduler_type')})", f"seed {training.get('seed')}"]
    runtime = train.get("train_runtime")
    history = EXAMPLE_HISTORY.get(vocabulary.name, [f"{vocabulary.noun} {i}" for i in "ABCD"])
    if manifest.get("item_tokens") and not set(history) <= set(manifest["item_tokens"]["texts"]):
        history = manifest["item_tokens"]["texts"][:4]  # an item-token adapter knows its own items only
    categories = data.get("item_categories")
    domain = f" whose categories are all among {', '.join(categories)}" if categories else ""
    items = manifest.get("item_tokens")
    shown = {"tokens": "one token each", "token+title": "a token each, followed by its title"}.get(
        manifest.get("item_text"), " + ".join(data.get("item_text_fields") or ["title"]))
    catalogue = f"the {vocabulary.nouns} of {dataset_label}{domain}, shown to the model as {shown}"
    init = {"text": "the mean embedding of its title's tokens",
            "text+bpr": "its title's mean token embedding plus its BPR-MF factor",
            "text+sasrec": "its title's mean token embedding plus its SASRec item embedding"}
    item_tokens = {"count": len(items["items"]), "init": init.get(data.get("item_token_init"), "its title"),
                   "all_positions": data.get("all_positions"),
                   "learning_rate": training.get("item_token_learning_rate") or training.get("learning_rate")} \
        if items else None
    card = ModelCard.from_template(
        card_data, template_path=str(template_path or CARD_TEMPLATE),
        model_name=repo_id.split("/")[-1], repo_id=repo_id, method_title=title, adapter_summary=adapter_summary,
        base_model_label=base or "<base model: set base_model_id>",
        base_model_url=f"https://huggingface.co/{base}" if base else "#", vocabulary=vocabulary.name,
        nouns=vocabulary.nouns, catalogue=catalogue, quantization=model.get("quantization", "none"),
        trust_remote_code=bool(model.get("trust_remote_code")), templates=templates,
        eval_template=manifest.get("eval_template"), system_prompt=manifest.get("system_prompt"),
        chat_template=manifest.get("chat_template"),
        task_mix=", ".join(f"{k} {v / total:.0%}" for k, v in mix.items()),
        example=manifest.get("example"), dataset_label=dataset_label,
        train_examples=train.get("train_examples", "?"), examples_per_user=data.get("examples_per_user", "?"),
        max_history_items=manifest.get("max_history_items"), max_prompt_tokens=manifest.get("max_prompt_tokens"),
        hyperparameters=", ".join(hyper), train_runtime=f"{runtime:.0f} s of training" if runtime else None,
        tokens_per_second=f"{train['train_tokens_per_second']:.0f}" if train.get("train_tokens_per_second") else None,
        validation={k.upper(): v for k, v in validation.items()}, validation_protocol=protocol,
        validation_users=evals.get("eval_users", "?"), num_candidates=manifest.get("num_candidates", 10),
        comparison=_comparison_table(comparison), history_example=history, versions=_versions(),
        item_tokens=item_tokens, bnb_config=bnb_config_source(model), base_dtype=base_dtype(model))
    return card


def save_comparison(output_dir: str | Path, rows: dict[str, dict[str, float]], adapter_row: str, *,
                    protocol: str = "loo-random-10", users: int, split: str = "test") -> Path:
    """Record a test-split table (this adapter, zero-shot, baselines) for the card: ``comparison.json``."""
    if adapter_row not in rows:
        raise ArgumentError(f"adapter_row {adapter_row!r} is not one of the rows {sorted(rows)}")
    return write_text_atomic(RunDir(output_dir).comparison, json.dumps(
        {"protocol": protocol, "split": split, "users": users, "rows": rows, "adapter_row": adapter_row},
        indent=2) + "\n")


def _comparison_table(comparison: dict | None) -> dict | None:
    if not comparison or not comparison.get("rows"):
        return None
    keys = [k for k in METRIC_ORDER if all(k in row for row in comparison["rows"].values())]
    return {"protocol": comparison.get("protocol", "loo-random-10"), "users": comparison.get("users", "?"),
            "rows": comparison["rows"], "metric_keys": keys, "columns": [k.upper() for k in keys]}


def write_card(output_dir: str | Path, **kwargs) -> Path:
    """Render the card of ``output_dir`` into its ``README.md`` (atomically)."""
    return write_text_atomic(RunDir(output_dir).card, str(build_card(output_dir, **kwargs)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write the model card (README.md) of a tuning run's output directory.")
    parser.add_argument("output_dir")
    parser.add_argument("--repo-id", help="the Hub repository the card will live in (for the usage snippets)")
    parser.add_argument("--base-model-id", help="Hub id of the base model when it was loaded from a local folder")
    parser.add_argument("--license", help="license identifier for the metadata, e.g. apache-2.0")
    parser.add_argument("--dataset-id", help="Hub id of the training dataset, when it has one")
    args = parser.parse_args(argv)
    try:
        path = write_card(args.output_dir, repo_id=args.repo_id, base_model=args.base_model_id, license=args.license,
                          dataset_id=args.dataset_id)
    except (FileNotFoundError, ValueError) as err:
        parser.exit(2, f"error: {err}\n")
    print(f"model card written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
