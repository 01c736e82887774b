"""Configuration: what model, what data, how to train. Validated on construction.

Three dataclasses, parsed together from a YAML file plus command-line overrides::

    python recipes/tune.py recipes/configs/demo-cpu.yaml --max_steps 20 --lora_r 8

* :class:`ModelArguments`: base model, quantisation (bitsandbytes), PEFT method;
* :class:`DataArguments`: interaction data, item text, template mix, budgets;
* :class:`InstructRecConfig`: ``transformers.TrainingArguments`` with our defaults and the
  ranking-evaluation fields.

An invalid value or combination raises ``ValueError`` naming the field; an unknown key in the
YAML file is refused with the nearest known name.
"""

from __future__ import annotations

import difflib
import functools
import math
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from transformers import HfArgumentParser, TrainingArguments

from ..errors import ConfigError, MissingFileError
from ..instructions.item_tokens import ITEM_TEXT_MODES
from ..instructions.negatives import NEGATIVE_SOURCES
from ..instructions.requests import REQUEST_KINDS
from ..instructions.templates import TASKS
from ..run_dir import RunDir

__all__ = ["ModelArguments", "DataArguments", "InstructRecConfig", "parse_config", "parse_task_mix",
           "saved_configs"]

QUANTIZATIONS = ("none", "8bit", "4bit")
PEFT_METHODS = ("lora", "prompt_tuning")
DTYPES = ("auto", "float32", "bfloat16", "float16")
# The trainer's evaluation scorers: auto, or one of inference.scoring.SCORING_METHODS but the
# naive reference (one forward pass per candidate), which exists to test the others against.
SCORING = ("auto", "shared_prefix", "batched")
ITEM_TOKEN_INITS = ("text", "text+bpr", "text+sasrec")  # training.item_init implements them


def _has_accelerator() -> bool:
    """Any device torch knows besides the CPU (CUDA, XPU, MPS, HPU, ...): the run is left to it."""
    import torch

    accelerator = getattr(torch, "accelerator", None)  # torch >= 2.6 names every backend here
    if accelerator is not None:
        return accelerator.is_available()
    return torch.backends.mps.is_available() or bool(getattr(torch, "xpu", None) and torch.xpu.is_available())


def _fail(cls: str, name: str, message: str):
    raise ConfigError(f"{cls}.{name}: {message}")


@dataclass
class ModelArguments:
    # --- base model
    model_name_or_path: str = field(default="", metadata={"help": "Hub id or local directory of the base model"})
    gguf_file: str | None = field(default=None, metadata={"help": "GGUF file inside model_name_or_path"})
    base_model_id: str | None = field(default=None, metadata={
        "help": "Hub id recorded in the adapter and card when the base was loaded from a local folder"})
    dtype: str = field(default="auto", metadata={"help": f"weights dtype: {', '.join(DTYPES)}"})
    trust_remote_code: bool = field(default=False, metadata={"help": "run code shipped with the model (off: safe)"})
    # --- quantisation (QLoRA)
    quantization: str = field(default="none", metadata={"help": f"bitsandbytes: {', '.join(QUANTIZATIONS)}"})
    bnb_4bit_quant_type: str = field(default="nf4", metadata={"help": "4bit data type: nf4 or fp4"})
    bnb_4bit_use_double_quant: bool = field(default=True, metadata={"help": "quantise the 4bit scales too"})
    bnb_4bit_compute_dtype: str = field(default="auto", metadata={
        "help": "matmul dtype under 4bit; auto: bfloat16 on a GPU that has it, else float32"})
    # --- PEFT
    peft_method: str = field(default="lora", metadata={"help": f"{', '.join(PEFT_METHODS)}"})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank"})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA scale numerator (scale = alpha / r)"})
    lora_dropout: float = field(default=0.05, metadata={"help": "dropout on the LoRA input"})
    lora_target_modules: list[str] = field(default_factory=lambda: ["auto"], metadata={
        "help": "module names to adapt; 'auto' picks them per architecture"})
    num_virtual_tokens: int = field(default=20, metadata={"help": "prompt tuning: soft instruction length"})
    prompt_tuning_init_text: str | None = field(default=None, metadata={
        "help": "prompt tuning: initialise the soft instruction from this text (else random)"})
    init_adapter: str | None = field(default=None, metadata={
        "help": "continue tuning this adapter directory (its weights and templates) instead of a fresh one"})

    def __post_init__(self):
        name = "ModelArguments"
        if not self.model_name_or_path:
            _fail(name, "model_name_or_path", "required: a Hub id or a local directory")
        for key, value, allowed in (("dtype", self.dtype, DTYPES), ("quantization", self.quantization, QUANTIZATIONS),
                                    ("peft_method", self.peft_method, PEFT_METHODS),
                                    ("bnb_4bit_quant_type", self.bnb_4bit_quant_type, ("nf4", "fp4")),
                                    ("bnb_4bit_compute_dtype", self.bnb_4bit_compute_dtype, DTYPES)):
            if value not in allowed:
                _fail(name, key, f"{value!r} is not one of {allowed}")
        if self.quantization != "none" and self.gguf_file:
            _fail(name, "quantization", "cannot be combined with gguf_file (GGUF weights are de-quantised on load); "
                  "convert the GGUF to a model directory first (python -m instructrec_peft.data.assets fetch does it "
                  "for "
                  "the demo model)")
        if self.quantization != "none" and self.dtype == "float16":
            _fail(name, "dtype", "float16 with bitsandbytes is unstable for training; use auto, float32 or bfloat16")
        if self.peft_method == "lora":
            if self.lora_r < 1:
                _fail(name, "lora_r", f"must be >= 1, got {self.lora_r}")
            if self.lora_alpha <= 0:
                _fail(name, "lora_alpha", f"must be > 0, got {self.lora_alpha}")
            if not 0 <= self.lora_dropout < 1:
                _fail(name, "lora_dropout", f"must be in [0, 1), got {self.lora_dropout}")
            if not self.lora_target_modules:
                _fail(name, "lora_target_modules", "empty; use ['auto'] or module names")
            if "auto" in self.lora_target_modules and len(self.lora_target_modules) > 1:
                _fail(name, "lora_target_modules", "'auto' cannot be mixed with module names")
        else:
            if self.num_virtual_tokens < 1:
                _fail(name, "num_virtual_tokens", f"must be >= 1, got {self.num_virtual_tokens}")
            if self.lora_target_modules != ["auto"]:
                _fail(name, "lora_target_modules", "only applies to peft_method=lora")

    @property
    def hub_id(self) -> str:
        """The id to record as the base model: ``base_model_id`` or the path/id that was loaded."""
        return self.base_model_id or self.model_name_or_path


def parse_task_mix(text: str) -> dict[str, float]:
    """``"matching=2,reranking=1"`` -> ``{"matching": 2.0, "reranking": 1.0}``."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        task, sep, weight = part.partition("=")
        task = task.strip()
        if task not in TASKS:
            raise ConfigError(f"DataArguments.task_mix: unknown task form {task!r} in {text!r}; expected {TASKS}")
        try:
            value = float(weight) if sep else 1.0
        except ValueError:
            raise ConfigError(f"DataArguments.task_mix: weight {weight!r} of {task!r} is not a number") from None
        if value <= 0:
            raise ConfigError(f"DataArguments.task_mix: weight of {task!r} must be > 0, got {value}")
        mix[task] = value
    if not mix:
        raise ConfigError("DataArguments.task_mix: empty; e.g. 'matching=1' or 'matching=2,reranking=1'")
    return mix


@dataclass
class DataArguments:
    # --- source
    dataset: str = field(default="ml-100k", metadata={
        "help": "'ml-100k' (demo asset), a RecBole dataset directory, or an interactions file"})
    items_file: str | None = field(default=None, metadata={"help": "item metadata file (for an interactions file)"})
    data_preset: str | None = field(default=None, metadata={
        "help": "a published layout read as downloaded, dataset being its folder: movielens, amazon-2023, "
                "amazon-2018, amazon-2014, goodreads, steam (data/presets/)"})
    data_format: str | None = field(default=None, metadata={
        "help": "csv, tsv, jsonl, parquet or atomic; default: suffix"})
    user_column: str = "user_id"
    item_column: str = "item_id"
    time_column: str = "timestamp"
    time_unit: str = field(default="auto", metadata={
        "help": "an interactions file's times (presets know theirs): auto (numbers: s/ms/us by size; text: ISO "
                "8601), s, ms, us, iso, or a strptime format"})
    rating_column: str | None = field(default="rating", metadata={"help": "empty for logs without ratings"})
    item_id_column: str = "item_id"
    item_text_fields: list[str] = field(default_factory=lambda: ["movie_title", "release_year"], metadata={
        "help": "item name first, then fields shown in parentheses"})
    category_field: str | None = field(default="class", metadata={
        "help": "item categories (intentions, P2); empty for items without categories"})
    category_sep: str | None = field(default=None, metadata={"help": "category separator; default whitespace"})
    category_path: str = field(default="all", metadata={
        "help": "categories given as paths (Amazon's [[top, ..., leaf]]): all levels, the leaf, or the first n"})
    max_item_text_chars: int = field(default=300, metadata={
        "help": "character budget of an item's text: the name, then further fields cut to fit"})
    min_interactions: int = field(default=3, metadata={"help": "users with fewer are train-only"})
    min_user_interactions: int = field(default=0, metadata={
        "help": "k-core: drop users with fewer interactions (with min_item_interactions, until both hold)"})
    min_item_interactions: int = field(default=0, metadata={"help": "k-core: drop items with fewer interactions"})
    item_categories: list[str] | None = field(default=None, metadata={
        "help": "a catalogue domain: keep only items whose categories are all listed (domains.py)"})
    # --- instructions
    vocabulary: str | None = field(default=None, metadata={
        "help": "movie, product, course, article, book, song, game; default: the data preset's, else movie"})
    task_mix: str = field(default="matching=1", metadata={"help": "task-form weights, e.g. 'matching=2,reranking=1'"})
    templates: list[str] | None = field(default=None, metadata={"help": "template names to train on (default: all)"})
    system_prompt: str | None = field(default=None, metadata={
        "help": "system message for chat-template models (default: the template's own)"})
    chat_template: bool | None = field(default=None, metadata={
        "help": "wrap prompts in the tokenizer's chat template (default: when it has one); false: plain text"})
    answer_separator: str = field(default="\n", metadata={
        "help": "plain-text prompts (chat_template: false): text between the prompt and the answer; item-token "
                "configs use '' so that the answer directly follows the last history item"})
    # --- items as tokens
    item_tokens: bool = field(default=False, metadata={
        "help": "one new token per catalogue item: histories, answers and scores use it (item_tokens.py)"})
    item_token_init: str = field(default="text+bpr", metadata={
        "help": f"initial item-token embeddings: {', '.join(ITEM_TOKEN_INITS)} (text: mean of the title's token "
                "embeddings; +bpr/+sasrec: plus a collaborative factor fitted on the train split)"})
    item_token_categories: bool = field(default=True, metadata={
        "help": "with item_tokens, add the mean embedding of an item's category names to its initial row, so the "
                "words of an intention ('a Comedy movie') start close to the items they name (no-op without "
                "categories)"})
    request_rate: float = field(default=0.0, metadata={
        "help": "share of train history positions preceded by a request the next item satisfies ('[something "
                "funny]', '[not Horror]'): how an item-token model learns to read instructions (requests.py)"})
    request_examples: float = field(default=1.0, metadata={
        "help": "share of train examples that carry requests (request_rate); the rest stay plain histories"})
    request_kinds: list[str] = field(default_factory=lambda: list(REQUEST_KINDS), metadata={
        "help": f"request kinds to draw from: {', '.join(REQUEST_KINDS)}"})
    item_text: str = field(default="tokens", metadata={
        "help": f"how items appear in prompts with item_tokens: {', '.join(ITEM_TEXT_MODES[:2])}"})
    all_positions: bool = field(default=True, metadata={
        "help": "with item_tokens, P1 matching examples train every history position to predict the next item"})
    eval_template: str = field(default="p1-i0-matching-1", metadata={
        "help": "template of the ranking evaluation (a matching or reranking template)"})
    max_history_items: int = field(default=10, metadata={"help": "newest history items shown"})
    max_prompt_tokens: int = field(default=384, metadata={"help": "prompt budget; the oldest history goes first"})
    num_candidates: int = field(default=10, metadata={"help": "ranking candidates: target + negatives"})
    negatives: str = field(default="random", metadata={
        "help": f"negatives of reranking, pairwise and pointwise examples, train and validation: "
                f"{', '.join(NEGATIVE_SOURCES)} (random: items the user never touched; bpr/sasrec: that baseline's "
                "best untouched items after the history, fitted on the train split: hard negatives)"})
    examples_per_user: int = field(default=8, metadata={"help": "train targets per user; 0: every train position"})
    max_train_examples: int | None = field(default=None, metadata={"help": "cap on train examples (after shuffling)"})
    feedback_file: str | None = field(default=None, metadata={
        "help": "JSONL feedback log (Recommender.record_feedback): accepted/rejected items become extra examples"})
    feedback_repeats: int = field(default=1, metadata={"help": "copies of each feedback example (its weight)"})
    eval_users: int = field(default=100, metadata={"help": "validation users ranked at each evaluation; 0: all"})

    def __post_init__(self):
        name = "DataArguments"
        self.task_mix_weights = parse_task_mix(self.task_mix)
        if self.rating_column == "":
            self.rating_column = None
        if self.category_field == "":
            self.category_field = None  # as for ratings: empty means the items have no categories
        for key in ("max_history_items", "max_prompt_tokens", "min_interactions"):
            if getattr(self, key) < 1:
                _fail(name, key, f"must be >= 1, got {getattr(self, key)}")
        if self.num_candidates < 2:
            _fail(name, "num_candidates", f"must be >= 2, got {self.num_candidates}")
        if self.examples_per_user < 0:
            _fail(name, "examples_per_user", f"must be >= 0 (0: all), got {self.examples_per_user}")
        if self.eval_users < 0:
            _fail(name, "eval_users", f"must be >= 0 (0: all), got {self.eval_users}")
        if self.feedback_repeats < 1:
            _fail(name, "feedback_repeats", f"must be >= 1, got {self.feedback_repeats}")
        if self.max_train_examples is not None and self.max_train_examples < 1:
            _fail(name, "max_train_examples", f"must be >= 1, got {self.max_train_examples}")
        if not self.item_text_fields:
            _fail(name, "item_text_fields", "empty; name at least the item-name column")
        if self.item_token_init not in ITEM_TOKEN_INITS:
            _fail(name, "item_token_init", f"{self.item_token_init!r} is not one of {ITEM_TOKEN_INITS}")
        for key in ("request_rate", "request_examples"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                _fail(name, key, f"must be in [0, 1], got {getattr(self, key)}")
        unknown = [k for k in self.request_kinds if k not in REQUEST_KINDS]
        if unknown or not self.request_kinds:
            _fail(name, "request_kinds", f"{unknown or 'empty'}: choose from {REQUEST_KINDS}")
        if self.negatives not in NEGATIVE_SOURCES:
            _fail(name, "negatives", f"{self.negatives!r} is not one of {NEGATIVE_SOURCES}")
        if self.item_text not in ITEM_TEXT_MODES[:2]:
            _fail(name, "item_text", f"{self.item_text!r} is not one of {ITEM_TEXT_MODES[:2]} (without item tokens "
                  "items are shown by title: set item_tokens: false)")
        from ..data.presets import PRESET_VOCABULARY, PRESETS

        if self.data_preset is not None and self.data_preset not in PRESETS:
            _fail(name, "data_preset", f"{self.data_preset!r} is not one of {sorted(PRESETS)}")
        if self.vocabulary is None:
            self.vocabulary = PRESET_VOCABULARY.get(self.data_preset, "movie")
        for key in ("min_user_interactions", "min_item_interactions"):
            if getattr(self, key) < 0:
                _fail(name, key, f"must be >= 0 (0: no filter), got {getattr(self, key)}")
        if self.max_item_text_chars < 8:
            _fail(name, "max_item_text_chars", f"must be >= 8, got {self.max_item_text_chars}")
        from ..data.interactions import TIME_UNITS

        if self.time_unit not in TIME_UNITS and "%" not in self.time_unit:
            _fail(name, "time_unit", f"{self.time_unit!r} is not one of {TIME_UNITS} or a strptime format (with %)")
        if self.category_path not in ("all", "leaf") and not (self.category_path.isdigit()
                                                                and int(self.category_path) >= 1):
            _fail(name, "category_path", f"{self.category_path!r} is not 'all', 'leaf' or a number of levels >= 1")
        if self.item_categories is not None and not self.item_categories:
            _fail(name, "item_categories", "empty; name the domain's categories, or leave it unset for every item")
        from ..instructions import templates as registry  # light import; registry validates names

        for key, names in (("templates", self.templates or ()), ("eval_template", [self.eval_template])):
            for template in names:
                try:
                    registry.get_template(template)
                except ValueError as err:
                    _fail(name, key, str(err))
        evaluation = registry.get_template(self.eval_template)
        if evaluation.task not in ("matching", "reranking") or evaluation.response_field not in ("target", "label"):
            _fail(name, "eval_template", f"{self.eval_template!r} is a {evaluation.task} template; ranking evaluation "
                  "scores candidates as completions, so use a matching or reranking template")
        if self.item_tokens and self.feedback_file:
            _fail(name, "feedback_file", "feedback becomes Yes/No examples, which item-token runs do not train on; "
                  "tune on feedback without item_tokens")
        if self.item_tokens:
            # An item-token answer is one token scored over the catalogue: the task forms that
            # answer with an item. Yes/No and letter answers are not item tokens.
            other = [t for t in self.task_mix_weights if t not in ("matching", "reranking")]
            if other:
                _fail(name, "task_mix", f"{other} answer with Yes/No or a choice, not an item; with item_tokens use "
                      "matching and reranking")
            for key, names in (("templates", self.templates or ()), ("eval_template", [self.eval_template])):
                labels = [t for t in names if registry.get_template(t).response_field == "label"]
                if labels:
                    _fail(name, key, f"{labels} answer with a list label; with item_tokens the answer is the item's "
                          "token, so use templates that answer with {target}")


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
    scoring_method: str = field(default="auto", metadata={"help": f"candidate scoring: {', '.join(SCORING)}"})
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
    precision: str = field(default="auto", metadata={
        "help": "auto, fp32, bf16 or fp16: the format the base weights are stored and computed in (auto: bf16 on "
                "GPUs and CPUs that have it, fp16 on older GPUs, else fp32; see models/precision.py)"})

    def __post_init__(self):
        if self.scoring_method not in SCORING:
            _fail("InstructRecConfig", "scoring_method", f"{self.scoring_method!r} is not one of {SCORING}")
        if self.max_steps <= 0 and self.num_train_epochs <= 0:
            # Trainer would "train" for no step and the run would write an untrained adapter.
            _fail("InstructRecConfig", "max_steps", f"{self.max_steps} with num_train_epochs {self.num_train_epochs} "
                  "trains nothing; set max_steps > 0 or num_train_epochs > 0")
        self._resolve_precision()
        if self.item_token_learning_rate is not None and self.item_token_learning_rate <= 0:
            _fail("InstructRecConfig", "item_token_learning_rate", f"must be > 0, got {self.item_token_learning_rate}")
        if not self.ranking_k_values or min(self.ranking_k_values) < 1:
            _fail("InstructRecConfig", "ranking_k_values", f"need K >= 1, got {self.ranking_k_values}")
        metric = self.metric_for_best_model
        if metric and metric.removeprefix("eval_") not in self.metric_names:
            _fail("InstructRecConfig", "metric_for_best_model",
                  f"{metric!r} is not a reported metric; choose one of {self.metric_names}")
        import torch

        if not torch.cuda.is_available():
            self.dataloader_pin_memory = False  # pinning here is a CUDA matter; elsewhere it only warns
            if not _has_accelerator():
                # Accelerate sets up CPU processes as a distributed group (gloo) only when told
                # the run is on CPU; otherwise each launched process would train alone.
                self.use_cpu = True
        if self.push_to_hub and "/" not in (self.hub_model_id or ""):
            _fail("InstructRecConfig", "hub_model_id", f"push_to_hub needs namespace/name, got {self.hub_model_id!r}")
        if self.gradient_checkpointing and self.gradient_checkpointing_kwargs is None:
            # Reentrant checkpointing loses the gradient path when the embeddings are frozen (PEFT).
            self.gradient_checkpointing_kwargs = {"use_reentrant": False}
        super().__post_init__()

    def _resolve_precision(self) -> None:
        """``precision`` -> ``resolved_precision`` and TrainingArguments' ``bf16`` / ``fp16`` (autocast)."""
        from .precision import PRECISIONS, resolve_precision

        if self.precision not in PRECISIONS:
            _fail("InstructRecConfig", "precision", f"{self.precision!r} is not one of {PRECISIONS}")
        flagged = "bf16" if self.bf16 else "fp16" if self.fp16 else None
        if flagged and self.precision not in ("auto", flagged):
            _fail("InstructRecConfig", "precision", f"{self.precision!r} contradicts {flagged}: true; set one of them")
        self.resolved_precision = flagged or resolve_precision(self.precision)
        self.bf16, self.fp16 = self.resolved_precision == "bf16", self.resolved_precision == "fp16"

    @property
    def metric_names(self) -> list[str]:
        return [f"{m}@{k}" for k in self.ranking_k_values for m in ("hr", "ndcg")] + ["mrr"]


def _known_fields() -> dict[str, type]:
    known = {}
    for cls in (ModelArguments, DataArguments, InstructRecConfig):
        for f in fields(cls):
            if f.init:
                known[f.name] = cls
    return known


@functools.lru_cache(maxsize=1)
def _field_types() -> dict[str, object]:
    """Each config field's type hint, resolved once (callers must not change the dict)."""
    import typing

    types = {}
    for cls in (ModelArguments, DataArguments, InstructRecConfig):
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # an annotation this Python cannot evaluate: fall back to its text
            hints = {}
        for f in fields(cls):
            if f.init:
                types[f.name] = hints.get(f.name, f.type)
    return types


def parse_config(argv: list[str] | None = None) -> tuple[ModelArguments, DataArguments, InstructRecConfig]:
    """Parse ``[config.yaml] [--field value ...]``: YAML gives defaults, the command line overrides."""
    import yaml

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = HfArgumentParser((ModelArguments, DataArguments, InstructRecConfig))
    if argv and argv[0].endswith((".yaml", ".yml")):
        path = Path(argv.pop(0))
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            # safe_load builds plain data only: a !!python/... tag is refused, never run.
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except UnicodeDecodeError as err:
            raise ConfigError(f"{path}: not valid UTF-8 (byte {err.start}); save the config as UTF-8") from None
        except yaml.YAMLError as err:
            where = getattr(err, "problem_mark", None)
            at = f", line {where.line + 1}, column {where.column + 1}" if where is not None else ""
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise ConfigError(f"{path}{at}: not valid YAML ({problem}); a config is a mapping of field: value") \
                from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of field: value at the top level")
        known, types = _known_fields(), _field_types()
        for key, value in loaded.items():
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{path}: unknown config field {key!r}{hint}")
            loaded[key] = _check_value(known[key].__name__, key, value, types[key], path)
        parser.set_defaults(**loaded)
    model_args, data_args, train_args = parser.parse_args_into_dataclasses(args=argv)
    return model_args, data_args, train_args


def saved_configs(directory: str | Path, hint: str = "not a folder written by instructrec-peft tuning", *,
                  trust_remote_code: bool = False) -> tuple[ModelArguments, DataArguments | None]:
    """The model and data arguments a tuning run saved beside its adapter (``RunDir.CONFIG``).

    ``trust_remote_code`` is the caller's, never the folder's: a run folder (or a Hub adapter) that
    saved ``trust_remote_code: true`` and names a base with an ``auto_map`` would otherwise run that
    base's Python code on load. A folder that asks for it, loaded without the caller's opt-in, is an
    error that says how to opt in.
    """
    run = RunDir(directory)
    if not run.config.is_file():
        raise MissingFileError(f"{run.config}: missing; {hint}")
    saved = run.read_json(run.CONFIG)
    model, data = saved.get("model"), saved.get("data")
    if not isinstance(model, dict):
        raise ConfigError(f"{run.config}: field 'model' must be a mapping of ModelArguments fields, got "
                          f"{type(model).__name__}")
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{run.config}: field 'data' must be a mapping of DataArguments fields, got "
                          f"{type(data).__name__}")
    if model.get("trust_remote_code") is True and not trust_remote_code:
        raise ConfigError(f"{run.config}: the adapter was tuned with trust_remote_code: true, so loading it would "
                          f"run Python code shipped with its base model {model.get('model_name_or_path')!r}; it is "
                          "not turned on from a saved file. If you trust that code, opt in yourself: "
                          "trust_remote_code=True (command line: --trust_remote_code)")
    model = {**model, "trust_remote_code": bool(trust_remote_code)}
    # task_mix_weights is derived from task_mix on construction, not a field.
    data = {k: v for k, v in data.items() if k != "task_mix_weights"} if data else None
    return (_from_saved(ModelArguments, model, run.config),
            _from_saved(DataArguments, data, run.config) if data else None)


def _from_saved(cls, values: dict, path: Path):
    """``cls(**values)`` with a saved file's unknown or wrongly typed fields named, not a TypeError."""
    known, types = {f.name: f for f in fields(cls) if f.init}, _field_types()
    values = dict(values)
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"{path}: unknown {cls.__name__} field(s) {unknown}; was it written by another version "
                          "or edited?")
    for key, value in values.items():
        # get_type_hints, not Field.type: HfArgumentParser rewrites Field.type in place (Optional[str] -> str).
        values[key] = _check_value(cls.__name__, key, value, types[key], path, parsed_text=False)
    return cls(**values)


def _check_value(owner: str, key: str, value, annotation, where, parsed_text: bool = True):
    """Refuse a value of the wrong type for a dataclass field, naming ``where`` (a file) and the field.

    YAML values reach the dataclasses as parsed (argparse converts only strings), so ``lora_r: 2.5``
    or ``true`` would pass unchecked and a string for a list field would be read letter by letter.
    ``annotation`` is the field's resolved type hint (:func:`_field_types`; its text where a hint
    cannot be resolved); the shapes below cover the fields of the three configs. Returns
    the value, a number given for a text field as text (``category_path: 2``). ``parsed_text``: text
    for a number or a truth value is accepted (argparse converts it); a saved file gets no such pass.
    """
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    text = text.replace("typing.", "").replace("Optional[", "")
    if value is None:
        if "None" not in text and "Optional" not in str(annotation):
            raise ConfigError(f"{where}: {owner}.{key} is null; expected {text}")
        return value
    kind = next((k for k in ("bool", "int", "float", "list", "dict", "str") if text.startswith(k)), None)
    if isinstance(value, str) and kind in ("bool", "int", "float") and not parsed_text:
        ok = False
    elif kind == "bool":
        ok = isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"))
    elif kind == "int":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str)
                                                                          and value.strip().lstrip("-").isdigit())
    elif kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if isinstance(value, str):  # PyYAML reads 1e-3 (no dot) as a string; argparse converts it
            try:
                ok = math.isfinite(float(value))
            except ValueError:
                ok = False
        elif ok:
            ok = math.isfinite(value)
    elif kind == "list":
        ok = isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                             for v in value)
    elif kind == "str":
        ok = isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                        and "list" not in text)
    else:
        ok = True
    if not ok:
        hint = "; give a list, e.g. [a, b]" if kind == "list" and isinstance(value, str) else ""
        raise ConfigError(f"{where}: {owner}.{key} is {value!r} ({type(value).__name__}); expected {text}{hint}")
    return str(value) if kind == "str" and not isinstance(value, str) else value
