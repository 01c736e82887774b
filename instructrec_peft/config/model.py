"""Settings of the model: the base, its quantisation (QLoRA) and the PEFT method."""

from __future__ import annotations

from dataclasses import dataclass

from .settings import check_choices, fail, setting

__all__ = ["ModelArguments", "DTYPES", "QUANTIZATIONS", "PEFT_METHODS"]

QUANTIZATIONS = ("none", "8bit", "4bit")
PEFT_METHODS = ("lora", "prompt_tuning")
DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass
class ModelArguments:
    # --- base model
    model_name_or_path: str = setting("", "Hub id or local directory of the base model ('demo': the demo model)")
    gguf_file: str | None = setting(None, "GGUF file inside model_name_or_path")
    base_model_id: str | None = setting(
        None, "Hub id recorded in the adapter and card when the base was loaded from a local folder")
    dtype: str = setting("auto", "weights dtype", choices=DTYPES)
    trust_remote_code: bool = setting(False, "run code shipped with the model (off: safe)")
    # --- quantisation (QLoRA)
    quantization: str = setting("none", "bitsandbytes quantisation of the frozen base", choices=QUANTIZATIONS)
    bnb_4bit_quant_type: str = setting("nf4", "4bit data type", choices=("nf4", "fp4"))
    bnb_4bit_use_double_quant: bool = setting(True, "quantise the 4bit scales too")
    bnb_4bit_compute_dtype: str = setting(
        "auto", "matmul dtype under 4bit; auto: bfloat16 on a GPU that has it, else float32", choices=DTYPES)
    # --- PEFT
    peft_method: str = setting("lora", "how the base is adapted", choices=PEFT_METHODS)
    lora_r: int = setting(16, "LoRA rank")
    lora_alpha: int = setting(32, "LoRA scale numerator (scale = alpha / r)")
    lora_dropout: float = setting(0.05, "dropout on the LoRA input")
    lora_target_modules: list[str] = setting(
        help="module names to adapt; 'auto' picks them per architecture", default_factory=lambda: ["auto"])
    num_virtual_tokens: int = setting(20, "prompt tuning: soft instruction length")
    prompt_tuning_init_text: str | None = setting(
        None, "prompt tuning: initialise the soft instruction from this text (else random)")
    init_adapter: str | None = setting(
        None, "continue tuning this adapter directory (its weights and templates) instead of a fresh one")

    def __post_init__(self):
        name = "ModelArguments"
        if not self.model_name_or_path:
            fail(name, "model_name_or_path", "required: a Hub id or a local directory")
        check_choices(self)
        if self.quantization != "none" and self.gguf_file:
            fail(name, "quantization", "cannot be combined with gguf_file (GGUF weights are de-quantised on load); "
                 "convert the GGUF to a model directory first (python -m instructrec_peft.data.assets fetch does it "
                 "for the demo model)")
        if self.quantization != "none" and self.dtype == "float16":
            fail(name, "dtype", "float16 with bitsandbytes is unstable for training; use auto, float32 or bfloat16")
        if self.peft_method == "lora":
            if self.lora_r < 1:
                fail(name, "lora_r", f"must be >= 1, got {self.lora_r}")
            if self.lora_alpha <= 0:
                fail(name, "lora_alpha", f"must be > 0, got {self.lora_alpha}")
            if not 0 <= self.lora_dropout < 1:
                fail(name, "lora_dropout", f"must be in [0, 1), got {self.lora_dropout}")
            if not self.lora_target_modules:
                fail(name, "lora_target_modules", "empty; use ['auto'] or module names")
            if "auto" in self.lora_target_modules and len(self.lora_target_modules) > 1:
                fail(name, "lora_target_modules", "'auto' cannot be mixed with module names")
        else:
            if self.num_virtual_tokens < 1:
                fail(name, "num_virtual_tokens", f"must be >= 1, got {self.num_virtual_tokens}")
            if self.lora_target_modules != ["auto"]:
                fail(name, "lora_target_modules", "only applies to peft_method=lora")

    @property
    def hub_id(self) -> str:
        """The id to record as the base model: ``base_model_id`` or the path/id that was loaded."""
        return self.base_model_id or self.model_name_or_path
