"""``eval_mode``: run a module for inference (dropout off, no autograd) and restore its mode after.

Scoring, generation, embedding and the baselines all run models that may be in the middle of
training (the Trainer's evaluation, a SASRec fit); they must not leave them in eval mode.
"""

from __future__ import annotations

import contextlib

import torch

__all__ = ["eval_mode"]


@contextlib.contextmanager
def eval_mode(module: torch.nn.Module):
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        module.train(was_training)
