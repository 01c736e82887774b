"""Settings of training: ``transformers.TrainingArguments`` with LoRA-friendly defaults, the
precision policy and the ranking evaluation's fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import TrainingArguments

from .precision import PRECISIONS, resolve_precision
from .settings import check_choices, fail, setting

__all__ = ["InstructRecConfig", "SCORING"]

# The trainer's evaluation scorers: auto, or one of inference.scoring.SCORING_METHODS but the
# naive reference (one forward pass per candidate), which exists to test the others against.
SCORING = ("auto", "shared_prefix", "batched")


def _has_accelerator() -> bool:
    """Any device torch knows besides the CPU (CUDA, XPU, MPS, HPU, ...): the run is left to it."""
    import torch

    accelerator = getattr(torch, "accelerator", None)  # torch >= 2.6 names every backend here
    if accelerator is not None:
        return accelerator.is_available()
    return torch.backends.mps.is_available() or bool(getattr(torch, "xpu", None) and torch.xpu.is_available())


@dataclass
class InstructRecConfig(TrainingArguments):
    """``TrainingArguments`` with LoRA-friendly defaults and the ranking evaluation."""

    # --- our defaults for inherited fields (why: LoRA wants a higher rate; logs stay local)
    output_dir: str | None = field(default="outputs/instructrec", metadata={"help": "where the adapter is written"})
    learning_rate: float = field(default=3e-4, metadata={"help": "LoRA learns at ~10x full fine-tuning's rate"})
    per_device_train_batch_size: int = field(default=8, metadata={"help": "examples per device per step"})
    num_train_epochs: float = field(default=1.0, metadata={"help": "passes over the train examples"})
    logging_steps: float = field(default=10, metadata={"help": "log every N steps"})
    save_steps: float = field(default=50, metadata={"help": "checkpoint every N steps"})
    save_total_limit: int | None = field(default=2, metadata={"help": "checkpoints kept"})
    report_to: None | str | list[str] = field(default="none", metadata={"help": "no tracker unless asked"})
    log_level: str = field(default="info", metadata={
        "help": "the main process's log level, transformers' and ours: info says what a run builds and trains"})
    remove_unused_columns: bool = field(default=False, metadata={"help": "the trainer prepares its own columns"})
    metric_for_best_model: str | None = field(default="ndcg@10", metadata={"help": "a ranking metric"})
    include_num_input_tokens_seen: str = field(default="non_padding", metadata={
        "help": "count tokens trained on: non_padding, all or no (logged as num_input_tokens_seen, tokens/s)"})
    # --- ranking evaluation
    ranking_k_values: list[int] = field(default_factory=lambda: [1, 3, 5, 10], metadata={"help": "K of HR@K, NDCG@K"})
    scoring_method: str = setting("auto", "candidate scoring of the text path's evaluation", choices=SCORING)
    length_normalize: bool = field(default=True, metadata={"help": "score = mean token log-prob of the candidate"})
    pad_to_multiple_of: int | None = field(default=8, metadata={"help": "pad batches to a multiple of N tokens"})
    completion_only_logits: bool = field(default=True, metadata={
        "help": "compute logits only at completion positions (same loss, less compute; LoRA only)"})
    item_token_learning_rate: float | None = field(default=1e-3, metadata={
        "help": "learning rate of the item-token embeddings (default 1e-3; None: learning_rate); new rows learn "
                "from scratch, faster than LoRA's low-rank updates"})
    padding_free: bool = field(default=False, metadata={
        "help": "pack each batch into one row without padding (same loss); falls back to grouping by length "
                "when the model's attention cannot keep packed examples apart"})
    fast_lora_dropout: bool = field(default=True, metadata={
        "help": "LoRA dropout masks from 16-bit random numbers, four per draw: the same dropout at a quarter of "
                "the random-number cost, a fifth of a CPU step (training/fast_lora.py); false: PEFT's nn.Dropout"})
    autocast_lora_inputs: bool = field(default=True, metadata={
        "help": "under bf16/fp16 autocast, LoRA layers take their input as it is instead of PEFT casting it to "
                "their fp32 weights' dtype and back (two copies per layer)"})
    precision: str = setting(
        "auto", "the format the base weights are stored and computed in (auto: bf16 on GPUs and CPUs that have it, "
                "fp16 on older GPUs, else fp32; see config/precision.py)", choices=PRECISIONS)

    def __post_init__(self):
        # Ours only: TrainingArguments' own fields are checked by TrainingArguments.
        check_choices(self, ("scoring_method", "precision"))
        if self.max_steps <= 0 and self.num_train_epochs <= 0:
            # Trainer would "train" for no step and the run would write an untrained adapter.
            fail("InstructRecConfig", "max_steps", f"{self.max_steps} with num_train_epochs {self.num_train_epochs} "
                  "trains nothing; set max_steps > 0 or num_train_epochs > 0")
        self._resolve_precision()
        if self.item_token_learning_rate is not None and self.item_token_learning_rate <= 0:
            fail("InstructRecConfig", "item_token_learning_rate", f"must be > 0, got {self.item_token_learning_rate}")
        if not self.ranking_k_values or min(self.ranking_k_values) < 1:
            fail("InstructRecConfig", "ranking_k_values", f"need K >= 1, got {self.ranking_k_values}")
        metric = self.metric_for_best_model
        if metric and metric.removeprefix("eval_") not in self.metric_names:
            fail("InstructRecConfig", "metric_for_best_model",
                  f"{metric!r} is not a reported metric; choose one of {self.metric_names}")
        import torch

        if not torch.cuda.is_available():
            self.dataloader_pin_memory = False  # pinning here is a CUDA matter; elsewhere it only warns
            if not _has_accelerator():
                # Accelerate sets up CPU processes as a distributed group (gloo) only when told
                # the run is on CPU; otherwise each launched process would train alone.
                self.use_cpu = True
        if self.push_to_hub and "/" not in (self.hub_model_id or ""):
            fail("InstructRecConfig", "hub_model_id", f"push_to_hub needs namespace/name, got {self.hub_model_id!r}")
        if self.gradient_checkpointing and self.gradient_checkpointing_kwargs is None:
            # Reentrant checkpointing loses the gradient path when the embeddings are frozen (PEFT).
            self.gradient_checkpointing_kwargs = {"use_reentrant": False}
        super().__post_init__()

    def _resolve_precision(self) -> None:
        """``precision`` -> ``resolved_precision`` and TrainingArguments' ``bf16`` / ``fp16`` (autocast)."""
        flagged = "bf16" if self.bf16 else "fp16" if self.fp16 else None
        if flagged and self.precision not in ("auto", flagged):
            fail("InstructRecConfig", "precision", f"{self.precision!r} contradicts {flagged}: true; set one of them")
        self.resolved_precision = flagged or resolve_precision(self.precision)
        self.bf16, self.fp16 = self.resolved_precision == "bf16", self.resolved_precision == "fp16"

    @property
    def metric_names(self) -> list[str]:
        return [f"{m}@{k}" for k in self.ranking_k_values for m in ("hr", "ndcg")] + ["mrr"]
