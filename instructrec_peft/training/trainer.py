"""``InstructRecTrainer``: a ``transformers.Trainer`` for instruction-tuned recommenders.

What it adds to ``Trainer``:

* it takes a model, or a model id plus :class:`ModelArguments`, and builds it with
  :func:`models.builder.build_model`: prepared for the run's item space (``item_space``: catalogue
  text by default, or item tokens) and wrapped by PEFT (LoRA, QLoRA, prompt tuning) unless it is a
  ``PeftModel`` already, from a ``peft_config`` of the caller's (as trl's trainers take one), else
  the one ``ModelArguments`` describes;
* it tokenises prompt/completion examples itself (inside ``main_process_first``, so one
  process does the work under DDP) and batches them with completion-only labels;
* it projects to the vocabulary only where the next token is supervised
  (``completion_only_logits``) and can train on padding-free packed rows (``padding_free``),
  both with the plain path's loss;
* ``evaluate()`` measures **ranking quality**: for validation users it scores each candidate's
  text by its likelihood after the prompt and reports HR@K, NDCG@K and MRR, so
  ``metric_for_best_model="ndcg@10"``, ``load_best_model_at_end`` and early stopping work;
* every save (checkpoints included) writes the template manifest and the resolved configs
  beside the adapter, so inference renders the prompts the adapter was trained on;
* ``push_to_hub`` shares the exported adapter (:func:`hub.push.push_adapter`: adapter, tokenizer,
  manifest, configs, metrics, model card; no checkpoints, pickles or local paths). With
  ``args.push_to_hub`` it runs once, at the end of :func:`tuning.run_tuning`, not on every save.

>>> trainer = InstructRecTrainer(model_args=model_args, args=train_args, train_dataset=train,  # doctest: +SKIP
...                              eval_dataset=valid, catalog=log.catalog, manifest=manifest)
>>> trainer.train(); trainer.save_model()                                                    # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

from transformers import Trainer
from transformers.trainer_utils import speed_metrics

from ..config import DataArguments, InstructRecConfig, ModelArguments
from ..config.precision import with_precision
from ..errors import ArgumentError
from ..evaluation.metrics.formulas import ranking_metrics, target_ranks
from ..files import write_text_atomic
from ..inference.spaces import ItemSpace, TextSpace
from ..instructions.manifest import Manifest
from ..instructions.tokenization import PromptEncoder, ensure_pad_token
from ..models.builder import build_model
from ..models.loading import is_prompt_learning, load_tokenizer
from ..models.losses import completion_positions
from ..run_dir import RunDir
from .collator import CompletionOnlyCollator
from .fast_lora import lora_input_layers, lora_inputs_in_autocast, use_fast_dropout
from .packing import isolates_packed_sequences

__all__ = ["InstructRecTrainer"]

logger = logging.getLogger(__name__)


class InstructRecTrainer(Trainer):
    def __init__(
        self,
        model=None,
        args: InstructRecConfig | None = None,
        *,
        model_args: ModelArguments | None = None,
        data_args: DataArguments | None = None,
        train_dataset=None,
        eval_dataset=None,
        processing_class=None,
        catalog=None,
        manifest: Manifest | None = None,
        encoder: PromptEncoder | None = None,
        item_space: ItemSpace | None = None,
        peft_config=None,
        **kwargs,
    ):
        args = args or InstructRecConfig()
        # Seed before the adapter is created: its initial weights (LoRA A, virtual tokens) come
        # from the global RNG, and Trainer only seeds inside its own __init__, after them.
        from transformers.trainer_utils import enable_full_determinism, set_seed

        if args.full_determinism:
            enable_full_determinism(args.seed)
        else:
            set_seed(args.seed)
        if isinstance(model, str):
            model_args = ModelArguments(**{**(asdict(model_args) if model_args else {}), "model_name_or_path": model})
            model = None
        if model_args is not None:
            model_args = with_precision(model_args, args.resolved_precision)
        if model is None and model_args is None:
            raise ArgumentError("InstructRecTrainer needs a model, a model id, or model_args")
        if processing_class is None:
            if model_args is None:
                raise ArgumentError("pass processing_class (the tokenizer) along with a model object")
            processing_class = load_tokenizer(model_args)
        ensure_pad_token(processing_class)
        if model_args is None:
            model_args = ModelArguments(model_name_or_path=getattr(model, "name_or_path", "") or "model")
        # Items as text or as tokens of their own: everything that differs is the space's.
        self.space = item_space or TextSpace()
        model = build_model(model_args, self.space, processing_class, model, peft_config=peft_config,
                            gradient_checkpointing=args.gradient_checkpointing,
                            gradient_checkpointing_kwargs=args.gradient_checkpointing_kwargs, seed=args.seed)
        if args.fast_lora_dropout:
            use_fast_dropout(model)
        # Recomputing activations (gradient checkpointing) must cast as the first forward did.
        uncast = (args.autocast_lora_inputs and args.resolved_precision in ("bf16", "fp16")
                  and not args.gradient_checkpointing)
        self.lora_input_layers = lora_input_layers(model) if uncast else []
        self.space.prepare_saving(model)
        self.encoder = encoder or (PromptEncoder.for_settings(processing_class, data_args) if data_args
                                   else PromptEncoder(processing_class))
        self.model_args, self.data_args = model_args, data_args
        self.catalog, self.manifest = catalog, manifest
        if eval_dataset is not None and catalog is None:
            raise ArgumentError("ranking evaluation needs catalog= (the ItemCatalog that maps candidates to text)")
        if train_dataset is not None and "input_ids" not in train_dataset.column_names:
            encode = self.space.encode(self.encoder, data_args.all_positions if data_args else True)
            with args.main_process_first(desc="tokenising train examples"):
                train_dataset = train_dataset.map(encode, batched=True, remove_columns=train_dataset.column_names,
                                                  desc="tokenising")
        # Prompt tuning prepends virtual tokens to every row (the kept positions and the packed
        # positions would be off by them), so it keeps the plain path.
        self.completion_only_logits = self.space.completion_only_logits(
            args.completion_only_logits and not is_prompt_learning(model))
        self.padding_free = args.padding_free and not is_prompt_learning(model)
        if self.padding_free and not isolates_packed_sequences(model):
            logger.warning("padding_free: this model's attention (%s) lets packed examples see each other; batching "
                           "by length instead", getattr(model.config, "_attn_implementation", "?"))
            self.padding_free = False
            args.train_sampling_strategy = "group_by_length"
        kwargs.setdefault("data_collator", CompletionOnlyCollator.from_tokenizer(
            processing_class, pad_to_multiple_of=args.pad_to_multiple_of, padding_free=self.padding_free))
        loss = self.space.loss_func(self.completion_only_logits)
        if loss is not None:
            kwargs.setdefault("compute_loss_func", loss)
        super().__init__(model=model, args=args, train_dataset=train_dataset, eval_dataset=eval_dataset,
                         processing_class=processing_class, **kwargs)

    def _run_epoch(self, *args, **kwargs):
        # Resumed from the final step's checkpoint (a kill during the final save), no step is left;
        # Trainer would still skip the trained batches and take one more step before comparing
        # with max_steps, writing an adapter the uninterrupted run never had.
        if 0 < self.state.max_steps <= self.state.global_step:
            self.control.should_training_stop = True
            return None
        return super()._run_epoch(*args, **kwargs)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.padding_free:
            # The all-ones mask was for Trainer's token count; with it, or with a cache, the model
            # would not read the packing from position_ids.
            inputs = {**{k: v for k, v in inputs.items() if k != "attention_mask"}, "use_cache": False}
        if self.completion_only_logits and "labels" in inputs:
            # Project to the vocabulary only the positions whose next token is a label;
            # `completion_loss` pairs them with those labels.
            inputs = {**inputs, "logits_to_keep": completion_positions(inputs["labels"])}
        with lora_inputs_in_autocast(self.lora_input_layers if model.training else []):
            if "labels" in inputs:
                model = self.space.loss_model(model, self.accelerator.autocast)
            return super().compute_loss(model, inputs, return_outputs=return_outputs,
                                        num_items_in_batch=num_items_in_batch)

    # ---- ranking evaluation -------------------------------------------------------------------

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        """HR@K, NDCG@K, MRR of the validation rows (``metric_key_prefix`` + ``_ndcg@10``, ...)."""
        rows = eval_dataset if eval_dataset is not None else self.eval_dataset
        if rows is None:
            raise ArgumentError("no eval_dataset: pass ranking rows (valid stage) to the trainer or to evaluate()")
        self._memory_tracker.start()
        start = time.time()
        # Each process ranks a contiguous shard; the ranks are gathered so every process
        # reports the same metrics (and agrees on the best checkpoint).
        shard = rows.shard(num_shards=self.args.world_size, index=self.args.process_index, contiguous=True) \
            if self.args.world_size > 1 else rows
        model = self.accelerator.unwrap_model(self.model)
        progress = not self.args.disable_tqdm and self.is_local_process_zero()
        method = None if self.args.scoring_method == "auto" else self.args.scoring_method
        scores, targets = self.space.rank(model, self.encoder, shard, self.catalog, method=method,
                                          normalize=self.args.length_normalize,
                                          batch_size=self.args.per_device_eval_batch_size, progress=progress)
        ranks = target_ranks(scores, targets).tolist()
        if self.args.world_size > 1:
            from accelerate.utils import gather_object

            ranks = gather_object(ranks)
        values = ranking_metrics(ranks, self.args.ranking_k_values)
        metrics = {f"{metric_key_prefix}_{k}": v for k, v in values.items()}
        metrics[f"{metric_key_prefix}_users"] = len(ranks)
        metrics.update(speed_metrics(metric_key_prefix, start, num_samples=len(ranks)))
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        self._memory_tracker.stop_and_update_metrics(metrics)
        return metrics

    def create_optimizer(self, model=None):
        optimizer = super().create_optimizer(model)
        rate = self.args.item_token_learning_rate
        if rate is None or getattr(self, "_item_group_done", False):
            return optimizer
        rows = self.space.row_parameters(model or self.model)
        if rows:
            moved = []
            for group in optimizer.param_groups:
                moved += [p for p in group["params"] if id(p) in rows]
                group["params"] = [p for p in group["params"] if id(p) not in rows]
            optimizer.param_groups[:] = [g for g in optimizer.param_groups if g["params"]]
            optimizer.add_param_group({"params": moved, "lr": rate, "weight_decay": 0.0})
        self._item_group_done = True
        return optimizer

    # ---- saving and sharing ---------------------------------------------------------------------

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        # Trainer pushes on every save_model when push_to_hub is set; we push once, after the
        # card and metrics exist (run_tuning calls push_to_hub).
        super().save_model(output_dir, _internal_call=True)

    def init_hf_repo(self, token: str | None = None, private: bool | None = None) -> None:
        # The repository is created by push_adapter at push time; nothing to set up before training.
        self.hub_model_id = self.args.hub_model_id

    def _push_from_checkpoint(self, checkpoint_folder: str) -> None:
        # Checkpoints hold optimizer and scheduler states, useless to an adapter user: they stay local.
        return None

    def push_to_hub(self, commit_message: str | None = None, blocking: bool = True, token: str | None = None,
                    revision: str | None = None, **kwargs):
        """Push the exported ``output_dir`` to ``args.hub_model_id``; returns the ``CommitInfo``
        (``None`` on processes other than the main one)."""
        from ..hub.push import push_adapter

        if not self.is_world_process_zero():
            return None
        if not self.args.hub_model_id:
            raise ArgumentError("InstructRecConfig.hub_model_id: set it to namespace/name to push")
        return push_adapter(self.args.output_dir, self.args.hub_model_id, private=self.args.hub_private_repo,
                            revision=revision or self.args.hub_revision, token=token or self.args.hub_token,
                            commit_message=commit_message, base_model=self.model_args.base_model_id
                            if self.model_args else None)

    def _save(self, output_dir: str | None = None, state_dict=None) -> None:
        """Save as one commit (:meth:`RunDir.commit`): the folder holds the old run's files or the
        new ones, never a mix, whenever the process dies; a first save killed leaves no adapter."""
        if not self.args.should_save:
            # Other processes write nothing (Trainer keeps them only to join gathers of sharded
            # weights); they must not commit into the folder the main process commits into.
            return super()._save(output_dir, state_dict)
        with RunDir(output_dir or self.args.output_dir).commit() as staging:
            super()._save(str(staging), state_dict)
            # training_args.bin is a pickle (loading it can run code) holding every argument,
            # hub_token included; instructrec_config.json records the same settings as JSON, tokenless.
            (staging / "training_args.bin").unlink(missing_ok=True)
            if self.args.should_save:
                self.save_extras(staging)

    def save_extras(self, output_dir: str | Path) -> None:
        """Write the template manifest and the resolved configs beside the adapter."""
        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        if self.manifest is not None:
            self.manifest.save(output_dir)
        payload = {"model": asdict(self.model_args) if self.model_args else None,
                   "data": _public(asdict(self.data_args)) if self.data_args else None,
                   "training": _public(self.args.to_dict())}
        write_text_atomic(RunDir(output_dir).config, json.dumps(payload, indent=2, default=str) + "\n")


def _public(values: dict) -> dict:
    # Never write credentials: TrainingArguments carries hub_token, and users put tokens in
    # environment-specific fields; anything named like a token is dropped.
    return {k: v for k, v in values.items()
            if "token" not in k.lower() or k.endswith(("_tokens", "_items")) or k.startswith("item_token")}
