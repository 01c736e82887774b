"""Does a model keep packed sequences apart?

Padding-free batches (``CompletionOnlyCollator(padding_free=True)``) put several examples in one
row and mark them only by ``position_ids`` that restart at 0. Current transformers turns that into
a block-diagonal mask for sdpa and eager attention and into variable-length kernels for flash
attention; a model that ignores ``position_ids`` for masking would let each example attend to the
ones before it, silently. The detection also needs ``use_cache=False`` (the trainer passes it).
:func:`isolates_packed_sequences` checks the model at hand: two short
sequences scored packed and apart must give the same logits.
"""

from __future__ import annotations

import torch

__all__ = ["isolates_packed_sequences"]


@torch.no_grad()
def isolates_packed_sequences(model, vocab_size: int | None = None, atol: float = 1e-3) -> bool:
    """True when ``model`` scores each sequence of a packed row as it scores it alone."""
    from ..inference.modes import eval_mode

    vocab = vocab_size or model.get_input_embeddings().weight.shape[0]
    device = model.get_input_embeddings().weight.device
    generator = torch.Generator().manual_seed(0)
    first, second = (torch.randint(1, vocab, (n,), generator=generator) for n in (5, 4))
    packed = torch.cat([first, second])[None].to(device)
    positions = torch.cat([torch.arange(5), torch.arange(4)])[None].to(device)
    with eval_mode(model):
        # No cache: transformers reads packing from position_ids only when no cache is in play.
        together = model(input_ids=packed, position_ids=positions, use_cache=False).logits[0].float()
        apart = [model(input_ids=seq[None].to(device)).logits[0].float() for seq in (first, second)]
    return torch.allclose(together, torch.cat(apart), atol=atol)
