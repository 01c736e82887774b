"""The throughput report's measurements (``throughput_report`` renders them; ``recipes/bench_throughput.py``
runs them): training throughput against TRL's SFTTrainer and the machine's limit, a step profile,
scale curves (reports/throughput.md).

Training: the demo model (SmolLM2-135M-Instruct) and the demo's LoRA config on the same tokenised
ML-100K instruction examples (``--steps`` x ``--batch-size``, one epoch, so every run trains on
exactly the same tokens), seed 42, each run in its own process:

* our ``InstructRecTrainer`` with each optimisation off and on: completion-only logits,
  padding-free packing, grouping by length, bf16 and its two CPU savings (``training/fast_lora.py``);
* TRL's ``SFTTrainer`` on the same token ids with completion-only loss (its defaults; and with
  ``padding_free=True``), in fp32 and in bf16;
* the item-token path (``recipes/configs/items-cpu.yaml``) in fp32 and bf16;
* the limit: a dense matmul's FLOP/s in fp32 and bf16 measured in the same run, and each run's
  model FLOP utilisation from :func:`throughput.lora_train_flops`.

Useful tokens/s counts non-padding tokens. Peak memory: the process's peak RSS (CPU) or
``torch.cuda.max_memory_allocated`` (GPU). Evaluation: ``InstructRecTrainer.evaluate`` with
batched and shared-prefix scoring. Scale: example building and evaluation on synthetic logs of
10^4..10^6 interactions, and scoring with 10, 20, 100 candidates.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

import torch

from instructrec_peft.errors import ConfigError
from instructrec_peft.files import write_text_atomic

SYSTEMS = {  # name -> (trainer, options); "precision" defaults to fp32 (bf16 with --bf16)
    "ours, plain (full logits, padded)": ("ours", dict(completion_only_logits=False, padding_free=False)),
    "ours + completion-only logits": ("ours", dict(completion_only_logits=True, padding_free=False)),
    "ours + padding-free": ("ours", dict(completion_only_logits=False, padding_free=True)),
    "ours + completion-only + length grouping": ("ours", dict(completion_only_logits=True, padding_free=False,
                                                              train_sampling_strategy="group_by_length")),
    "ours + completion-only + padding-free": ("ours", dict(completion_only_logits=True, padding_free=True)),
    "ours + completion-only logits, bf16": ("ours", dict(completion_only_logits=True, padding_free=False,
                                                         precision="bf16")),
    # Each CPU saving of training/fast_lora.py off in turn (the row above has both).
    "ours, bf16, PEFT's LoRA dropout": ("ours", dict(completion_only_logits=True, padding_free=False,
                                                     precision="bf16", fast_lora_dropout=False)),
    "ours, bf16, PEFT's LoRA input casts": ("ours", dict(completion_only_logits=True, padding_free=False,
                                                         precision="bf16", autocast_lora_inputs=False)),
    "TRL SFTTrainer": ("trl", dict(padding_free=False)),
    "TRL SFTTrainer padding_free": ("trl", dict(padding_free=True)),
    # TRL turns gradient checkpointing on by default (less memory, a second forward pass in the
    # backward); this row is TRL doing the same computation as ours.
    "TRL SFTTrainer, no gradient checkpointing": ("trl", dict(padding_free=False, gradient_checkpointing=False)),
    "TRL SFTTrainer, bf16": ("trl", dict(padding_free=False, precision="bf16")),
    # The item-token path (recipes/configs/items-cpu.yaml): short item-token sequences, every
    # history position supervised, a softmax over the catalogue.
    "items as tokens, fp32": ("items", dict(precision="fp32")),
    "items as tokens, fp32, PEFT's LoRA dropout": ("items", dict(precision="fp32", fast_lora_dropout=False)),
    "items as tokens, bf16": ("items", dict(precision="bf16")),
    "items as tokens, bf16, PEFT's LoRA dropout": ("items", dict(precision="bf16", fast_lora_dropout=False)),
    "items as tokens, bf16, PEFT's LoRA input casts": ("items", dict(precision="bf16", autocast_lora_inputs=False)),
}
OURS_DEFAULT = "ours + completion-only logits"  # InstructRecConfig's defaults, in fp32
OURS_BF16 = "ours + completion-only logits, bf16"  # ... and with precision auto on a CPU or GPU with bf16
TRL_DEFAULT = "TRL SFTTrainer"
TRL_BF16 = "TRL SFTTrainer, bf16"


SECTIONS = ("training", "profile", "evaluation", "scale")


@dataclass
class ThroughputSettings:
    """The budgets of a report (the recipe's flags), where the demo config is, and the script that
    runs one measurement as a child process. ``name``, ``size`` and ``data`` describe one child's job."""

    demo_config: Path
    script: Path
    items_config: Path | None = None  # the item-token demo's config (its rows need it)
    steps: int = 12  # optimizer steps per training run
    batch_size: int = 8
    bf16: bool = False  # train in bfloat16 autocast (GPU); the peak is then bf16 matmul
    eval_users: int = 20
    sizes: list[int] = field(default_factory=lambda: [10_000, 100_000, 1_000_000])
    candidates: list[int] = field(default_factory=lambda: [10, 20, 100])
    systems: list[str] | None = None  # train only these; the other runs are kept from the last report
    smoke: bool = False
    name: str | None = None
    size: int | None = None
    data: str | None = None

    def __post_init__(self):
        for key in ("steps", "batch_size", "eval_users"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key} must be >= 1, got {getattr(self, key)}")
        unknown = [s for s in self.systems or () if s not in SYSTEMS]
        if unknown:
            raise ConfigError(f"systems: unknown {unknown}; expected some of {list(SYSTEMS)}")


def _configs(args: ThroughputSettings):
    from instructrec_peft.config import parse_config

    return parse_config([str(args.demo_config), "--quantization", "none"])


def _demo(args: ThroughputSettings, with_log: bool = True) -> SimpleNamespace:
    """The demo's configs, tokenizer and prompt encoder, and (``with_log``) its log and split."""
    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.instructions.tokenization import PromptEncoder
    from instructrec_peft.models.loading import load_tokenizer
    from instructrec_peft.models.workspace import load_log

    model_args, data_args, train_args = _configs(args)
    tokenizer = load_tokenizer(model_args)  # with a pad token
    demo = SimpleNamespace(model_args=model_args, data_args=data_args, train_args=train_args, tokenizer=tokenizer,
                           encoder=PromptEncoder(tokenizer, system_prompt=data_args.system_prompt))
    if with_log:
        demo.log = load_log(data_args)
        demo.split = leave_one_out(demo.log, min_interactions=data_args.min_interactions)
    return demo


def _device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


# ---- children: one measurement each, in its own process -----------------------------------------

def child_train(args) -> dict:
    import datasets

    from instructrec_peft.models.loading import load_base_model, peft_config

    kind, options = SYSTEMS[args.name]
    options = dict(options)
    precision = options.pop("precision", "bf16" if args.bf16 else "fp32")
    if kind == "items":
        return _train_items(args, precision, options)
    if kind == "ours":
        trainer = _ours_text_trainer(args, options, precision)
        used = {"padding_free": trainer.padding_free, "completion_only_logits": trainer.completion_only_logits}
    else:
        from trl import SFTConfig, SFTTrainer

        demo = _demo(args, with_log=False)
        model_args, tokenizer = demo.model_args, demo.tokenizer
        data = datasets.load_from_disk(args.data)
        # TRL's bf16 on a CPU needs use_cpu, which our config sets itself on a machine without an accelerator.
        config = SFTConfig(**_common(args), completion_only_loss=True, max_length=None, bf16=precision == "bf16",
                           use_cpu=not torch.cuda.is_available(), **options)
        # The frozen base in the run's format, as ours loads it.
        model = load_base_model(replace(model_args, dtype="bfloat16" if precision == "bf16" else "float32"))
        data = data.map(lambda row: {"completion_mask": [int(x != -100) for x in row["labels"]]},
                        remove_columns=["labels"])
        trainer = SFTTrainer(model=model, args=config, train_dataset=data, processing_class=tokenizer,
                             peft_config=peft_config(model_args, model))
        used = dict(options)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    result = trainer.train()
    lora = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    return {"seconds": result.metrics["train_runtime"], "steps": trainer.state.global_step,
            "loss": result.metrics["train_loss"], "tokens_seen": trainer.state.num_input_tokens_seen,
            "trainable_params": lora, "used": used, "precision": precision,
            "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None}


def _common(args) -> dict:
    return dict(output_dir=tempfile.mkdtemp(), num_train_epochs=1, per_device_train_batch_size=args.batch_size,
                learning_rate=5e-4, lr_scheduler_type="linear", warmup_steps=0, seed=42, save_strategy="no",
                eval_strategy="no", logging_steps=10_000, report_to="none", disable_tqdm=True,
                include_num_input_tokens_seen="non_padding", dataloader_pin_memory=False)


def _ours_text_trainer(args, options: dict, precision: str, callbacks=None):
    """Our trainer on the demo's tokenised text examples (``args.data``)."""
    import datasets

    from instructrec_peft.config import InstructRecConfig
    from instructrec_peft.training.trainer import InstructRecTrainer

    demo = _demo(args, with_log=False)
    config = InstructRecConfig(**_common(args), **options, precision=precision)
    return InstructRecTrainer(model_args=demo.model_args, data_args=demo.data_args, args=config,
                              train_dataset=datasets.load_from_disk(args.data), processing_class=demo.tokenizer,
                              callbacks=callbacks)


def child_profile(args) -> dict:
    """One profiled training step of the text path (``args.name`` "text") or the item-token path."""
    from instructrec_peft.config.precision import resolve_precision

    from .step_profile import StepProfiler, step_breakdown

    precision = "bf16" if args.bf16 else resolve_precision("auto")
    profiler = StepProfiler()
    if args.name == "items":
        result, _ = _tune_items(args, precision, steps=3, callbacks=[profiler])
        trainer = result.trainer
        heads = {len(trainer.space.tokens)}
    else:
        trainer = _ours_text_trainer(args, dict(completion_only_logits=True, max_steps=3), precision,
                                     callbacks=[profiler])
        trainer.train()
        heads = {trainer.model.get_output_embeddings().weight.shape[0]}
    return {**step_breakdown(profiler.profile, heads), "precision": precision}


def _tune_items(args, precision: str, steps: int, callbacks=None, options: dict | None = None):
    """The item-token demo (items-cpu.yaml) for ``steps`` steps of its batch size, one epoch over
    exactly those examples (``max_train_examples``), as ``run_tuning`` trains it."""
    from instructrec_peft.config import InstructRecConfig, parse_config
    from instructrec_peft.training.tuning import run_tuning

    model_args, data_args, items_args = parse_config([str(args.items_config), "--quantization", "none"])
    batch = items_args.per_device_train_batch_size
    data_args = replace(data_args, max_train_examples=steps * batch, eval_users=1)
    config = InstructRecConfig(output_dir=tempfile.mkdtemp(), num_train_epochs=1, per_device_train_batch_size=batch,
                               learning_rate=items_args.learning_rate, lr_scheduler_type="linear", warmup_steps=0,
                               seed=42, save_strategy="no", eval_strategy="no", logging_steps=10_000,
                               report_to="none", disable_tqdm=True, include_num_input_tokens_seen="non_padding",
                               dataloader_pin_memory=False, precision=precision,
                               item_token_learning_rate=items_args.item_token_learning_rate, **(options or {}))
    return run_tuning(model_args, data_args, config, callbacks=callbacks), batch


def _train_items(args, precision: str, options: dict) -> dict:
    result, batch = _tune_items(args, precision, args.steps, options=options)
    trainer = result.trainer
    data = trainer.train_dataset
    return {"seconds": result.train_metrics["train_runtime"], "steps": trainer.state.global_step,
            "loss": result.train_metrics["train_loss"], "tokens_seen": trainer.state.num_input_tokens_seen,
            "trainable_params": sum(p.numel() for p in trainer.model.parameters() if p.requires_grad),
            "precision": precision, "batch_size": batch, "items": len(trainer.space.tokens),
            "lengths": [len(ids) for ids in data["input_ids"]],
            "supervised": [sum(1 for x in labels if x != -100) for labels in data["labels"]],
            "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None}


def child_scale_build(args) -> dict:
    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.data.synthetic import synthetic_log
    from instructrec_peft.instructions.examples import ExampleConfig, build_examples
    from instructrec_peft.instructions.tokenization import PromptEncoder

    encoder = PromptEncoder(_demo(args, with_log=False).tokenizer)
    log = synthetic_log(args.size)
    start = time.perf_counter()
    split = leave_one_out(log)
    examples = build_examples(split, log.catalog, "train", ExampleConfig(tasks={"matching": 1}, examples_per_user=8,
                                                                         seed=0),
                              count_tokens=encoder.count_tokens, max_prompt_tokens=384)
    return {"seconds": time.perf_counter() - start, "examples": len(examples), "users": len(split.users)}


def child_scale_eval(args) -> dict:
    from transformers import GPT2Config, GPT2LMHeadModel

    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.data.synthetic import synthetic_log
    from instructrec_peft.inference.candidates import rank_rows
    from instructrec_peft.instructions.tokenization import PromptEncoder
    from instructrec_peft.models.workspace import eval_rows

    demo = _demo(args, with_log=False)
    data_args, tokenizer = demo.data_args, demo.tokenizer
    encoder = PromptEncoder(tokenizer)
    # A 2-layer model: the curve is about how evaluation grows with the log, not about the LM.
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=1024, n_embd=64, n_layer=2, n_head=2,
                                       bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id))
    log = synthetic_log(args.size)
    start = time.perf_counter()
    split = leave_one_out(log)
    rows = eval_rows(split, log, data_args, encoder, seed=0, stage="test")
    rank_rows(model, encoder, rows, log.catalog, progress=False)
    return {"seconds": time.perf_counter() - start, "users": len(rows)}


def child_candidates(args) -> dict:

    from instructrec_peft.inference.candidates import rank_rows
    from instructrec_peft.models.loading import load_base_model
    from instructrec_peft.models.workspace import eval_rows

    demo = _demo(args)
    rows = eval_rows(demo.split, demo.log, replace(demo.data_args, num_candidates=args.size), demo.encoder, seed=0,
                     stage="test", users=4)
    model = load_base_model(demo.model_args)
    start = time.perf_counter()
    rank_rows(model, demo.encoder, rows, demo.log.catalog, method="shared_prefix", progress=False)
    return {"seconds": time.perf_counter() - start, "users": len(rows)}


CHILDREN = {"train": child_train, "scale-build": child_scale_build, "scale-eval": child_scale_eval,
            "candidates": child_candidates, "profile": child_profile}


def run_child(kind: str, args, **extra) -> dict:
    """Run one measurement in a fresh process; its peak RSS is its own."""
    from .runs import run_measured

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "result.json"
        argv = [sys.executable, str(args.script), "--child", kind, "--out", str(out), "--steps", str(args.steps),
                "--batch-size", str(args.batch_size), *(["--bf16"] if args.bf16 else [])]
        for key, value in extra.items():
            argv += [f"--{key}", str(value)]
        run = run_measured(argv, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
        result = json.loads(out.read_text())
    return dict(result, peak_rss_mb=run.peak_rss_mb, process_seconds=run.seconds)


# ---- the parent: data, runs, report --------------------------------------------------------------

def training_data(args, path: Path):
    """The first steps x batch-size shuffled demo train examples, tokenised once for every run."""
    from instructrec_peft.models.workspace import train_rows

    demo = _demo(args)
    rows = train_rows(demo.split, demo.log, demo.data_args, demo.encoder, demo.train_args.seed).select(
        range(args.steps * args.batch_size))
    tokens = rows.map(lambda b: demo.encoder.encode_batch(b["prompt"], b["completion"]), batched=True,
                      remove_columns=rows.column_names)
    tokens.save_to_disk(str(path))
    return tokens


def measure_evaluation(args) -> dict:
    from instructrec_peft.config import InstructRecConfig
    from instructrec_peft.models.workspace import eval_rows
    from instructrec_peft.training.trainer import InstructRecTrainer

    demo = _demo(args)
    valid = eval_rows(demo.split, demo.log, demo.data_args, demo.encoder, 42, "valid", args.eval_users)
    seconds = {}
    for method in ("batched", "shared_prefix"):
        with tempfile.TemporaryDirectory() as scratch:
            config = InstructRecConfig(output_dir=scratch, report_to="none", disable_tqdm=True, scoring_method=method)
            trainer = InstructRecTrainer(model_args=demo.model_args, data_args=demo.data_args, args=config,
                                         eval_dataset=valid, processing_class=demo.tokenizer, catalog=demo.log.catalog,
                                         encoder=demo.encoder)
            start = time.perf_counter()
            metrics = trainer.evaluate()
        seconds[method] = {"seconds": time.perf_counter() - start, "ndcg@10": metrics["eval_ndcg@10"]}
    return {"users": len(valid), "candidates": demo.data_args.num_candidates, "methods": seconds}


def training_section(args, scratch: Path, previous: dict | None = None) -> dict:
    """Every system's run, or with ``--systems`` only those, merged into the ``previous`` runs."""
    from transformers import AutoConfig

    from instructrec_peft.models.loading import model_path

    from .throughput import lora_train_flops, matmul_flops

    data = training_data(args, scratch / "train-tokens")
    lengths = [len(ids) for ids in data["input_ids"]]
    supervised = [sum(1 for x in labels if x != -100) for labels in data["labels"]]
    peaks = {"fp32": matmul_flops(dtype=torch.float32, device=_device()),
             "bf16": matmul_flops(dtype=torch.bfloat16, device=_device())}
    config = AutoConfig.from_pretrained(model_path(_configs(args)[0]))
    useful = sum(lengths)
    runs = {}
    if args.systems and previous:
        runs = {name: run for name, run in previous["runs"].items() if name in SYSTEMS}
        for run in runs.values():  # runs of an earlier session, before the bf16 rows existed
            run.setdefault("precision", "fp32")
            run.setdefault("flops", run["mfu"] * run["seconds"] * run["peak_flops"])
            run.setdefault("mfu_bf16", run["flops"] / run["seconds"] / peaks["bf16"])
            run.setdefault("useful_tokens", useful)
    for name in args.systems or SYSTEMS:
        run = run_child("train", args, name=name, data=scratch / "train-tokens")
        if SYSTEMS[name][0] == "items":
            # The catalogue projection is trained (item rows): 6 FLOPs per row entry and position.
            flops = lora_train_flops(config, run["lengths"], run["supervised"], run["trainable_params"],
                                     head_rows=run["items"], head_trained=True)
            tokens = sum(run["lengths"])
        else:
            flops, tokens = lora_train_flops(config, lengths, supervised, run["trainable_params"]), useful
        # Each run's MFU against the peak of its own format, measured in its own session, and
        # against the bf16 peak, the most this machine's matmul units do.
        precision = run.get("precision", "bf16" if args.bf16 else "fp32")
        run.update(tokens_per_second=tokens / run["seconds"], step_seconds=run["seconds"] / run["steps"],
                   flops=flops, mfu=flops / run["seconds"] / peaks[precision],
                   mfu_bf16=flops / run["seconds"] / peaks["bf16"], peak_flops=peaks[precision], precision=precision,
                   useful_tokens=tokens)
        runs[name] = run
    return {"steps": args.steps, "batch_size": args.batch_size, "examples": len(lengths), "useful_tokens": useful,
            "supervised_tokens": sum(supervised), "padded_share": _padding_share(lengths, args.batch_size),
            "peaks": peaks, "peak_flops": peaks["bf16" if args.bf16 else "fp32"],
            "dtype": "bfloat16" if args.bf16 else "float32",
            "rerun": sorted(set(args.systems or []) | set((previous or {}).get("rerun", []) if args.systems else [])),
            "runs": {name: runs[name] for name in SYSTEMS if name in runs}}


def profile_section(args, scratch: Path) -> dict:
    """One profiled step of each path, each in its own process."""
    training_data(args, scratch / "train-tokens")
    return {path: run_child("profile", args, name=path, data=scratch / "train-tokens") for path in ("text", "items")}


def _padding_share(lengths, batch_size) -> float:
    padded = sum(max(lengths[i:i + batch_size]) * len(lengths[i:i + batch_size])
                 for i in range(0, len(lengths), batch_size))
    return 1 - sum(lengths) / padded


def scale_section(args) -> dict:
    build = {n: run_child("scale-build", args, size=n) for n in args.sizes}
    evaluation = {n: run_child("scale-eval", args, size=n) for n in args.sizes}
    candidates = {n: run_child("candidates", args, size=n) for n in args.candidates}
    return {"build": build, "evaluation": evaluation, "candidates": candidates}


def run_child_job(kind: str, args: ThroughputSettings, out: Path) -> None:
    """In a child process: one measurement, written to ``out``."""
    write_text_atomic(out, json.dumps(CHILDREN[kind](args)))
