"""The one model builder: a base model made ready for an item space, then wrapped by PEFT.

Training, the benchmarks and the demo build their models here, so a model is the same whichever
caller asks for it: :func:`base_model` loads the base (or takes the caller's) and lets the item
space prepare it (new rows for item tokens, nothing for catalogue text); :func:`build_model` adds
the adapter, from a ``PeftConfig`` of the caller's (as trl's trainers take one) or the one
``ModelArguments`` describes, with the item space's rows trainable.

The space is any object with ``prepare_model`` and ``trainable_tokens`` (an
``inference.spaces.ItemSpace``); it is not imported here, so models stay below inference.

>>> model = build_model(model_args, space, tokenizer)                      # doctest: +SKIP
>>> model = build_model(model_args, space, tokenizer, peft_config=LoraConfig(r=16))  # doctest: +SKIP
"""

from __future__ import annotations

from ..config import ModelArguments
from .loading import load_base_model, wrap_model

__all__ = ["base_model", "build_model"]


def base_model(model_args: ModelArguments, space, tokenizer, model=None):
    """``model`` (or the base of ``model_args``, loaded) prepared for ``space``: unwrapped, untuned."""
    if model is None:
        model = load_base_model(model_args)
    space.prepare_model(model, tokenizer, model_args)
    return model


def build_model(model_args: ModelArguments, space, tokenizer, model=None, *, peft_config=None,
                gradient_checkpointing: bool = False, gradient_checkpointing_kwargs: dict | None = None,
                seed: int | None = None):
    """A ``PeftModel`` ready to train in ``space``; a ``model`` that is one already is returned as it is.

    ``seed``: the global RNG is seeded with it once the base is prepared, right before PEFT draws
    the adapter's initial weights, so they do not depend on what preparing the base drew (resizing
    the embeddings for item tokens draws rows that the space then overwrites).
    """
    from peft import PeftModel

    if isinstance(model, PeftModel):
        return model
    model = base_model(model_args, space, tokenizer, model)
    if seed is not None:
        from transformers.trainer_utils import set_seed

        set_seed(seed)
    return wrap_model(model, model_args, gradient_checkpointing, gradient_checkpointing_kwargs,
                      trainable_tokens=space.trainable_tokens(), config=peft_config)
