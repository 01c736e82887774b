"""instructrec-peft: instruction-tune small causal LMs into recommenders (InstructRec) with PEFT.

The names users call, re-exported from the stage folders (see the README's Layout). Light
modules are imported here; anything that pulls in torch is resolved on first use.
"""

from ._version import __version__
from .data.interactions import ColumnMap, InteractionLog, ItemCatalog
from .data.split import LeaveOneOutSplit, leave_one_out
from .errors import ConfigError, DataError, InstructRecError, TemplateError
from .instructions import safe_format, templates, vocabulary
from .instructions.templates import Template, get_template, register_template

# Training and model classes import torch and transformers: resolved on first use only.
_LAZY = {
    "InstructRecTrainer": "training.trainer", "InstructRecConfig": "config.training", "ModelArguments": "config.model",
    "DataArguments": "config.arguments", "parse_config": "config.parser", "run_tuning": "training.tuning",
    "Manifest": "instructions.manifest", "Recommender": "inference.recommender",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "InstructRecTrainer", "InstructRecConfig", "ModelArguments", "DataArguments", "parse_config", "run_tuning",
    "Manifest", "Recommender", "ColumnMap", "ConfigError", "DataError", "InstructRecError", "InteractionLog",
    "ItemCatalog", "LeaveOneOutSplit", "Template", "TemplateError", "get_template", "leave_one_out",
    "register_template", "safe_format", "templates", "vocabulary", "__version__",
]
