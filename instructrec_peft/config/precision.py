"""The number format a run computes in: ``precision: auto | fp32 | bf16 | fp16``.

``auto`` picks the fastest format the hardware runs natively: bfloat16 on a CUDA GPU that has
it (Ampere and later) and on an x86 CPU with AVX512-BF16 or AMX (torch's own capability
checks) and on an Intel XPU that has it; float16 on an older CUDA GPU (with loss scaling, as
TrainingArguments does); float32 elsewhere (CPUs without bf16 instructions emulate it, slower
than float32; on Apple MPS set ``bf16`` yourself where it pays). ``reports/throughput.md`` measures what it
gives on a CPU with AVX512-BF16.

A bf16 or fp16 run loads the frozen base weights in that format and trains under autocast; the
trained weights (LoRA matrices, item-token rows) and their optimizer state stay float32 (PEFT
keeps adapter weights in float32), so small updates are not rounded away, and losses and scores
are computed in float32 from the last hidden states.
"""

from __future__ import annotations

import torch

__all__ = ["PRECISIONS", "cpu_has_bf16", "cuda_has_bf16", "resolve_precision", "weights_dtype_name", "with_precision"]

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (x86 AVX512-BF16 or AMX)."""
    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check() for check in checks if check is not None)


def cuda_has_bf16() -> bool:
    return torch.cuda.is_bf16_supported()


def resolve_precision(requested: str = "auto") -> str:
    """``requested``, or for ``auto`` the fastest native format here: ``fp32``, ``bf16`` or ``fp16``."""
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "bf16" if cuda_has_bf16() else "fp16"
    accelerator = getattr(torch, "accelerator", None)
    if accelerator is not None and accelerator.is_available():  # the run stays on it (not the CPU)
        if hasattr(torch, "xpu") and torch.xpu.is_available():
            return "bf16" if torch.xpu.is_bf16_supported() else "fp32"
        return "fp32"  # MPS and others: bf16 support varies; set it yourself where it pays
    return "bf16" if cpu_has_bf16() else "fp32"


def weights_dtype_name(precision: str) -> str:
    """``ModelArguments.dtype`` for a resolved precision."""
    return {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}[precision]


def with_precision(model_args, precision: str):
    """``model_args`` whose ``auto`` weight and 4-bit compute dtypes follow a resolved ``precision``
    (saved so with the adapter, so that loading it computes as training and evaluation did)."""
    from dataclasses import replace

    weights = weights_dtype_name(precision)
    changes = {}
    if model_args.bnb_4bit_compute_dtype == "auto":
        changes["bnb_4bit_compute_dtype"] = weights
    if model_args.dtype == "auto":
        # bitsandbytes' non-quantised layers in float16 train unstably; they stay float32 then.
        changes["dtype"] = "float32" if model_args.quantization != "none" and weights == "float16" else weights
    return replace(model_args, **changes) if changes else model_args
