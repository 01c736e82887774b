"""One tuning run from parsed configs: data, model, trainer, outputs. ``recipes/tune.py`` calls it.

Outputs in ``output_dir``: the adapter (``adapter_model.safetensors``, ``adapter_config.json``),
the tokenizer, ``instructrec_manifest.json`` (templates and prompt settings),
``instructrec_config.json`` (resolved configs), ``train_results.json`` / ``eval_results.json`` /
``all_results.json`` (metrics), ``trainer_state.json`` and ``README.md`` (the model card);
``checkpoint-N/`` folders as they are saved, resumable with ``--resume_from_checkpoint``. With
``push_to_hub`` the shareable part is then pushed to ``hub_model_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..config import DataArguments, InstructRecConfig, ModelArguments
from ..config.precision import with_precision
from ..errors import ArgumentError
from ..files import write_text_atomic
from ..instructions.manifest import Manifest
from ..instructions.templates import get_template
from ..logs import follow_transformers
from ..models.workspace import Workspace, example_config
from ..run_dir import RunDir
from .data import prepare_data
from .item_space import run_item_space
from .trainer import InstructRecTrainer

__all__ = ["TuneResult", "run_tuning", "save_run", "complete_checkpoint", "latest_checkpoint",
           "full_state_dict_for_saving"]


@dataclass
class TuneResult:
    trainer: InstructRecTrainer
    train_metrics: dict
    eval_metrics: dict | None


def run_tuning(model_args: ModelArguments, data_args: DataArguments, train_args: InstructRecConfig,
               callbacks: list | None = None) -> TuneResult:
    """A whole tuning run: data, model, training, saving, evaluation, card (``callbacks``: Trainer callbacks)."""
    follow_transformers(train_args.get_process_log_level())
    model_args = with_precision(model_args, train_args.resolved_precision)
    ws = Workspace(data_args, train_args.seed, model_args)
    tokenizer, encoder = ws.tokenizer, ws.encoder
    if data_args.item_tokens and model_args.init_adapter:
        raise ArgumentError("ModelArguments.init_adapter: continuing an adapter is not supported with item_tokens "
                            "yet; tune a fresh adapter")
    with train_args.main_process_first(desc="building instruction examples"):
        # One log and one split for the whole run: the item space's collaborative rows and the
        # examples share them.
        log, split = ws.log, ws.split
        space = run_item_space(data_args, tokenizer, log, split, train_args.seed)
        data = prepare_data(data_args, encoder, train_args.seed, log=log, item_tokens=space.tokens, split=split)
    names = sorted(set(data.train["template"]) | {data_args.eval_template})
    inherited = []
    if model_args.init_adapter:
        # Keep the templates the adapter learned before, user-registered ones included.
        inherited = [t for t in Manifest.load(model_args.init_adapter).templates if t["name"] not in names]
    manifest = Manifest(
        templates=[get_template(n).to_dict() for n in names] + inherited, eval_template=data_args.eval_template,
        vocabulary=data_args.vocabulary, task_mix=data_args.task_mix_weights,
        chat_template=bool(encoder.chat_template),
        system_prompt=encoder.system_prompt, max_history_items=data_args.max_history_items,
        max_prompt_tokens=data_args.max_prompt_tokens, num_candidates=data_args.num_candidates,
        base_model=model_args.hub_id,
        example=({"prompt": data.valid[0]["prompt"], "completion": data.valid[0]["completion"]}
                 if len(data.valid) else None),
        **space.manifest_fields(data_args.item_text),
        history_style=example_config(data_args, train_args.seed).history_style,
        answer_separator=encoder.separator)
    trainer = InstructRecTrainer(
        model_args=model_args, data_args=data_args, args=train_args, train_dataset=data.train,
        eval_dataset=data.valid, processing_class=tokenizer, catalog=data.log.catalog, manifest=manifest,
        encoder=encoder, item_space=space, callbacks=callbacks)
    resume = train_args.resume_from_checkpoint
    if resume is not None:
        resume = latest_checkpoint(train_args.output_dir) if str(resume).lower() in ("true", "latest") \
            else complete_checkpoint(resume)
    result = trainer.train(resume_from_checkpoint=resume)
    train_metrics = dict(result.metrics, world_size=train_args.world_size, train_examples=len(data.train))
    # Tokens of this session only: a resumed run restores the count of the checkpoint it left.
    tokens = trainer.state.num_input_tokens_seen - getattr(trainer, "_initial_num_input_tokens_seen", 0)
    if tokens and result.metrics.get("train_runtime"):
        train_metrics.update(train_tokens=tokens, train_tokens_per_second=tokens / result.metrics["train_runtime"])
    eval_metrics = None
    if train_args.eval_strategy != "no" or train_args.do_eval:
        eval_metrics = _final_eval(trainer)
    trainer.log_metrics("train", train_metrics)
    if eval_metrics is not None:
        trainer.log_metrics("eval", eval_metrics)
    save_run(trainer, train_metrics, eval_metrics, model_args.base_model_id)
    if train_args.push_to_hub:
        trainer.push_to_hub(commit_message=f"Upload adapter tuned for {trainer.state.global_step} steps")
    return TuneResult(trainer, train_metrics, eval_metrics)


def save_run(trainer: InstructRecTrainer, train_metrics: dict, eval_metrics: dict | None,
             base_model: str | None = None) -> None:
    """The run's outputs (adapter, tokenizer, manifest, configs, metrics, trainer state, card) as
    one commit into ``output_dir``: a kill at any point leaves the previous run's files or these,
    never a mix (:meth:`RunDir.commit`)."""
    full_state_dict_for_saving(trainer)
    run = RunDir(trainer.args.output_dir)
    if not trainer.is_world_process_zero():
        # Other processes only take part in gathering the weights (FSDP, DeepSpeed); they write nothing.
        trainer.save_model(str(run.path))
        return
    with run.commit() as staging:
        trainer.save_model(str(staging))
        results = {run.TRAIN_RESULTS: train_metrics, run.EVAL_RESULTS: eval_metrics,
                   run.ALL_RESULTS: {**train_metrics, **(eval_metrics or {})}}
        for name, metrics in results.items():
            if metrics is not None:
                write_text_atomic(staging / name, json.dumps(metrics, indent=4, sort_keys=True) + "\n")
        trainer.state.save_to_json(str(staging / run.trainer_state.name))
        from ..hub.model_card import write_card

        write_card(staging, repo_id=trainer.args.hub_model_id, base_model=base_model,
                   name=Path(trainer.args.output_dir).name)


def full_state_dict_for_saving(trainer) -> None:
    """Under FSDP, gather a full state dict for the final save, as peft's FSDP guide says: the
    sharded one a run may checkpoint with would leave an adapter plain PEFT cannot load. Configs
    set for sharded saving are dropped so that the full ones (on CPU, rank 0) replace them."""
    if not getattr(trainer, "is_fsdp_enabled", False):
        return
    plugin = trainer.accelerator.state.fsdp_plugin
    plugin.state_dict_config = plugin.optim_state_dict_config = None
    plugin.set_state_dict_type("FULL_STATE_DICT")


def _final_eval(trainer: InstructRecTrainer) -> dict:
    """The final model's validation metrics, reusing the evaluation of the last step if there was one."""
    last = next((e for e in reversed(trainer.state.log_history) if "eval_mrr" in e), None)
    if last is not None and last["step"] == trainer.state.global_step and not trainer.args.load_best_model_at_end:
        return {k: v for k, v in last.items() if k.startswith("eval_")}
    return trainer.evaluate()


def complete_checkpoint(path: str | Path) -> str:
    """``path`` if it is a checkpoint that was written to the end, else a ValueError saying why."""
    run = RunDir(path)
    if not run.path.is_dir():
        raise ArgumentError(f"resume_from_checkpoint: {run.path} is not a directory")
    if not run.is_complete_checkpoint():
        what = "no" if not run.trainer_state.is_file() else "an unreadable"
        raise ArgumentError(f"resume_from_checkpoint: {run.path} is incomplete ({what} {run.trainer_state.name}, or "
                            "files that do not match its run record); the run stopped while writing it. Resume from "
                            "an earlier checkpoint, or pass 'latest'")
    return str(run.path)


def latest_checkpoint(output_dir: str | Path) -> str:
    """The newest complete ``checkpoint-N`` in ``output_dir`` (incomplete ones are skipped)."""
    return str(RunDir(output_dir).latest_checkpoint().path)
