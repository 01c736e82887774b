"""Where a training step's time goes: one step under ``torch.profiler``, sorted into kinds of work.

:class:`StepProfiler` is a Trainer callback that profiles one optimizer step (after one to warm
up) and :func:`step_breakdown` sorts the profiled operators' own (self) CPU time:

* by where they ran: the optimizer step (``Optimizer.step``), data loading (the DataLoader's
  ``__next__``), the model's forward and backward;
* model operators by kind: the vocabulary or catalogue projection (a matrix product one of whose
  dimensions is the vocabulary or catalogue size), the other matrix products (the linear
  layers, LoRA included), attention, softmax and loss, everything else (element-wise ops,
  casts, copies, normalisation);
* "Python and framework overhead": the step's wall time not spent inside any operator.

>>> profiler = StepProfiler()                                                  # doctest: +SKIP
>>> trainer.add_callback(profiler); trainer.train()                            # doctest: +SKIP
>>> step_breakdown(profiler.profile, head_sizes={49152, 1682})                 # doctest: +SKIP
"""

from __future__ import annotations

import torch
from transformers import TrainerCallback

__all__ = ["StepProfiler", "step_breakdown", "KINDS"]

KINDS = ("vocabulary / catalogue projection", "matmul (linear layers)", "attention", "softmax and loss",
         "other operators", "optimizer step", "data loading", "Python and framework overhead")
_MATMUL = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::matmul", "aten::_mkldnn_matmul")
_ATTENTION = ("scaled_dot_product", "flash_attention", "_efficient_attention")
_SOFTMAX = ("softmax", "nll_loss", "cross_entropy")


class StepProfiler(TrainerCallback):
    """Profile the second optimizer step of a run (the first warms up kernels and caches)."""

    def __init__(self):
        self.profile = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True,
                                              schedule=torch.profiler.schedule(wait=0, warmup=1, active=1, repeat=1))
        self.started = False

    def on_step_begin(self, args, state, control, **kwargs):
        if not self.started:
            self.profile.__enter__()
            self.started = True

    def on_step_end(self, args, state, control, **kwargs):
        if self.started:
            self.profile.step()
            if state.global_step >= 2:
                self.profile.__exit__(None, None, None)
                self.started = None  # done; later steps run unprofiled


def _region(event) -> str:
    node = event
    while node is not None:
        if node.name.startswith("Optimizer.step"):
            return "optimizer step"
        if "DataLoader" in node.name:
            return "data loading"
        node = node.cpu_parent
    return "model"


def _kind(event, head_sizes: set[int]) -> str:
    name = event.name
    if name.startswith(_MATMUL):
        shapes = [dim for shape in (event.input_shapes or []) for dim in (shape or [])]
        return "vocabulary / catalogue projection" if head_sizes & set(shapes) else "matmul (linear layers)"
    if any(key in name for key in _ATTENTION):
        return "attention"
    if any(key in name for key in _SOFTMAX):
        return "softmax and loss"
    return "other operators"


def step_breakdown(profile, head_sizes: set[int]) -> dict:
    """Seconds of the profiled step by kind (:data:`KINDS`) and the step's wall time."""
    events = profile.events()
    steps = [e for e in events if e.name.startswith("ProfilerStep")]
    wall = sum(e.cpu_time_total for e in steps) / 1e6
    seconds, others = dict.fromkeys(KINDS, 0.0), {}
    for event in events:
        if event.name.startswith("ProfilerStep") or event.self_cpu_time_total <= 0:
            continue
        region = _region(event)
        kind = region if region != "model" else _kind(event, head_sizes)
        seconds[kind] += event.self_cpu_time_total / 1e6
        if kind == "other operators":
            others[event.name] = others.get(event.name, 0.0) + event.self_cpu_time_total / 1e6
    # Operators of the backward pass run on autograd's thread as well as this one; what is left of
    # the wall time once every operator's own time is counted is Python and the framework.
    seconds["Python and framework overhead"] = max(0.0, wall - sum(seconds.values()))
    top = dict(sorted(others.items(), key=lambda kv: -kv[1])[:6])
    return {"wall seconds": wall, "seconds": seconds, "top other operators": top}
