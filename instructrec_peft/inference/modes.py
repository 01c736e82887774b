"""``eval_mode``: run a module for inference (dropout off, no autograd) and restore its mode after;
``forward_as_loaded``: run a model being trained with its own forward, as a loaded adapter runs.

Scoring, generation, embedding and the baselines all run models that may be in the middle of
training (the Trainer's evaluation, a SASRec fit); they must not leave them in eval mode.
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["eval_mode", "forward_as_loaded"]


@contextlib.contextmanager
def eval_mode(module: torch.nn.Module):
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        module.train(was_training)


@contextlib.contextmanager
def forward_as_loaded(model):
    """Evaluate with the model's own forward, not Accelerate's mixed-precision one: a bf16 run's
    forward is wrapped in autocast, which a loaded adapter (Recommender, plain PEFT) does not
    have, and the reported metrics must be what a user of the saved adapter gets."""
    original = model.__dict__.get("_original_forward")
    wrapped = model.__dict__.get("forward")
    if original is None or wrapped is None:
        yield
        return
    model.forward = original
    try:
        yield
    finally:
        model.forward = wrapped
