"""Item logits: a causal LM's scores of the item tokens, without projecting onto the whole vocabulary.

With the output head tied to the input embedding (GPT-2, SmolLM2, Qwen2 small) and no logit
scaling, the last hidden states times the item tokens' rows are the item logits: the projection
onto the ~50k text tokens, the largest single matmul of a short item-token example, is never
computed. Otherwise the model's own logits are sliced; both give the same numbers. Scoring
(:mod:`~instructrec_peft.inference.item_scoring`) and training (:class:`ItemLogits`) share it.
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["item_head_base", "item_logits", "ItemLogits"]


def item_head_base(model):
    """The base model whose decoder's last hidden states times the item tokens' embedding rows
    are the item logits, or ``None`` when the model's own head must be used: an output head not
    tied to the input embedding, logit scaling, or a wrapper (DDP) whose forward must run."""
    inner = getattr(model, "module", model)  # DDP and similar wrappers keep the model in .module
    base = inner.get_base_model() if hasattr(inner, "get_base_model") else inner
    config = base.config.get_text_config() if hasattr(base.config, "get_text_config") else base.config
    scaled = any(getattr(config, key, None) not in (None, 1, 1.0)
                 for key in ("logit_scale", "final_logit_softcapping"))
    tied = bool(getattr(config, "tie_word_embeddings", False))
    return base if inner is model and tied and not scaled and hasattr(base, "get_decoder") else None


def item_logits(model, hidden: torch.Tensor, id_range: range) -> torch.Tensor:
    """``hidden`` (..., d) times the item tokens' rows: ``(..., len(id_range))`` float32 logits.

    In float32 whatever the run's precision: in bfloat16 logits near 14 are rounded to steps of
    1/16, and the catalogue's close scores would tie. The rows come through the embedding module,
    so PEFT's trainable rows (and their gradient) are the ones used."""
    ids = torch.arange(id_range.start, id_range.stop, device=hidden.device)
    rows = model.get_input_embeddings()(ids)
    with torch.autocast(hidden.device.type, enabled=False):
        return hidden.float() @ rows.float().T


class ItemLogits:
    """Call a causal LM for the item tokens' logits at the kept positions only: ``(kept, items)``.

    Trainer calls it in place of the model. A model wrapped for distributed training (DDP) takes
    the model's own forward, which is where the wrapper synchronises gradients.
    """

    def __init__(self, model, id_range: range, autocast=None):
        self.model, self.id_range = model, id_range
        self.base = item_head_base(model)
        # The decoder is called directly, not through the forward the accelerator wrapped with
        # autocast, so a bf16/fp16 run passes its autocast here (the item projection is float32).
        self.autocast = autocast or contextlib.nullcontext

    def __call__(self, input_ids, logits_to_keep, attention_mask=None, position_ids=None, **_):
        from transformers.modeling_outputs import CausalLMOutput

        if self.base is None:
            logits = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                                logits_to_keep=logits_to_keep, use_cache=False).logits
            return CausalLMOutput(logits=logits[..., self.id_range.start:self.id_range.stop])
        with self.autocast():
            hidden = self.base.get_decoder()(input_ids=input_ids, attention_mask=attention_mask,
                                             position_ids=position_ids, use_cache=False).last_hidden_state
        return CausalLMOutput(logits=item_logits(self.model, hidden[logits_to_keep], self.id_range))
