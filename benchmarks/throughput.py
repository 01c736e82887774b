"""Training throughput against the machine's limit: measured peak FLOP/s and model FLOP utilisation.

:func:`matmul_flops` measures what this machine's dense matrix multiply reaches in a given
format, fp32 or bf16 (the practical limit for a transformer's linear layers).
:func:`lora_train_flops` counts the floating point operations one training pass over given
sequences needs with a frozen base and LoRA adapters, so ``flops / seconds / matmul_flops()``
is the model FLOP utilisation (MFU) of a run.
The count is of the work the loss *needs*: the vocabulary projection only at supervised
positions, no padding. A trainer that computes more (full logits, padded positions) gets no
credit for it; one that skips needed work cannot, since the loss would change.

>>> peak = matmul_flops()                                           # doctest: +SKIP
>>> flops = lora_train_flops(model.config, lengths=[212, 230], supervised=[9, 11],  # doctest: +SKIP
...                          lora_params=1_800_000)
>>> mfu = flops / peak                                              # doctest: +SKIP
"""

from __future__ import annotations

import time
from typing import Sequence

import torch

__all__ = ["matmul_flops", "lora_train_flops", "body_params"]


def matmul_flops(size: int = 2048, repeats: int = 10, dtype=torch.float32, device="cpu") -> float:
    """Best dense ``size x size`` matmul rate over ``repeats`` tries, in FLOP/s (2 n^3 per product)."""
    a = torch.randn(size, size, dtype=dtype, device=device)
    b = torch.randn(size, size, dtype=dtype, device=device)
    a @ b  # warm-up: thread pool, kernels
    best = float("inf")
    for _ in range(repeats):
        if device != "cpu":
            torch.cuda.synchronize()
        start = time.perf_counter()
        a @ b
        if device != "cpu":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def body_params(config) -> int:
    """Parameters of the linear layers between embedding and vocabulary projection, from the
    config (they take 2 FLOPs per token each in a forward pass)."""
    d = config.hidden_size
    layers = config.num_hidden_layers
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or d // heads
    inner = getattr(config, "intermediate_size", None) or getattr(config, "n_inner", None) or 4 * d
    attention = d * heads * head_dim * 2 + d * kv_heads * head_dim * 2  # q, o + k, v
    gated = getattr(config, "hidden_act", "gelu") in ("silu", "swiglu") or "llama" in config.model_type
    mlp = (3 if gated else 2) * d * inner
    return layers * (attention + mlp)


def lora_train_flops(config, lengths: Sequence[int], supervised: Sequence[int], lora_params: int,
                     head_rows: int | None = None, head_trained: bool = False) -> float:
    """FLOPs of one forward and backward pass over sequences of ``lengths`` tokens with
    ``supervised`` completion tokens each, the base frozen.

    Per token: the frozen linear layers 2P forward + 2P backward (gradients of the inputs only),
    the LoRA matrices 6 per parameter (they also get weight gradients), causal attention scores
    3 x 4 x layers x d x (tokens attended, on average (n+1)/2); per supervised token the
    vocabulary projection 2 x d x V forward + the same backward. ``head_rows``: a projection onto
    that many rows instead (the item tokens' catalogue); ``head_trained``: its rows get weight
    gradients too (6 instead of 4 x d x rows).
    """
    d, layers = config.hidden_size, config.num_hidden_layers
    vocab = head_rows or config.vocab_size
    head = 6 if head_trained else 4
    heads = config.num_attention_heads
    attn_width = heads * (getattr(config, "head_dim", None) or d // heads)
    body = body_params(config)
    total = 0.0
    for n, s in zip(lengths, supervised):
        total += n * (4 * body + 6 * lora_params) + 12 * layers * attn_width * n * (n + 1) / 2 + head * d * vocab * s
    return total
