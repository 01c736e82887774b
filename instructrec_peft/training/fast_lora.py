"""Two costs of a LoRA training step on a CPU that are not matrix products, taken down.

A step profile (``reports/throughput.md``, "Where a training step's time goes") shows them:

* **LoRA dropout's random numbers.** PEFT applies ``nn.Dropout`` to the input of every adapted
  layer, seven per transformer block, and torch draws one random number per element for each
  mask: a fifth of a CPU step. :class:`FastDropout` draws 64-bit random integers and reads each
  as four 16-bit ones, keeping an element when its number is at or above a threshold: the same
  Bernoulli dropout (keep probability exact to 1/65536), scaled by 1 / (1 - p) as ``nn.Dropout``
  does, at a quarter of the random-number cost. On other devices it is ``F.dropout`` (a fused
  kernel there).
* **Input casts under autocast.** PEFT casts a LoRA layer's input to the dtype of its weights
  (float32) and autocast casts it back to bf16 for the product: two copies of every adapted
  layer's input. Under bf16/fp16 autocast they are skipped (PEFT's ``cast_input_dtype_enabled``
  flag); the weights themselves stay float32.

``InstructRecConfig.fast_lora_dropout`` and ``autocast_lora_inputs`` turn each on (the default)
or off; the throughput report measures both ways.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ArgumentError

__all__ = ["FastDropout", "use_fast_dropout", "lora_input_layers", "lora_inputs_in_autocast"]


class FastDropout(nn.Module):
    """Inverted dropout with masks from 16-bit random numbers, four per 64-bit draw."""

    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise ArgumentError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        # A uniform int16 h is kept when h >= threshold: probability 1 - round(p * 65536) / 65536.
        self.threshold = round(p * 65536) - 32768

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, self.p, training=True)
        n = x.numel()
        words = torch.randint(-2**63, 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64, device=x.device)
        keep = words.view(torch.int16)[:n].view(x.shape) >= self.threshold
        return (x * keep).mul_(1 / (1 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}"


def use_fast_dropout(model: nn.Module) -> int:
    """Replace the ``nn.Dropout`` of every LoRA layer of ``model`` with :class:`FastDropout`;
    returns how many were replaced (dropout holds no weights: the adapter saves the same)."""
    replaced = 0
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if not isinstance(dropouts, nn.ModuleDict):
            continue
        for name, dropout in list(dropouts.items()):
            if type(dropout) is nn.Dropout and dropout.p > 0:
                dropouts[name] = FastDropout(dropout.p)
                replaced += 1
    return replaced


def lora_input_layers(model: nn.Module) -> list[nn.Module]:
    """The layers of ``model`` that cast their input to their weights' dtype (PEFT's
    ``cast_input_dtype_enabled``), found once so a training step does not walk the model."""
    return [m for m in model.modules() if hasattr(m, "cast_input_dtype_enabled")]


@contextlib.contextmanager
def lora_inputs_in_autocast(layers: list[nn.Module]):
    """A context in which ``layers`` (:func:`lora_input_layers`) take their input as it comes
    (under autocast, its bf16/fp16).

    PEFT's own ``disable_input_dtype_casting`` sets the same flag, but fails on a model with
    trainable item-token rows (their layer has no such flag); this sets it where it exists."""
    saved = [m.cast_input_dtype_enabled for m in layers]
    for layer in layers:
        layer.cast_input_dtype_enabled = False
    try:
        yield
    finally:
        for layer, value in zip(layers, saved):
            layer.cast_input_dtype_enabled = value
