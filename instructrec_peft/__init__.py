"""instructrec-peft: instruction-tune small causal LMs into recommenders (InstructRec) with PEFT.

Light modules are imported here; anything that pulls in torch is imported where it is used.
"""

from . import safe_format, templates, vocabulary
from .errors import DataError, InstructRecError, TemplateError
from .interactions import ColumnMap, InteractionLog, ItemCatalog
from .split import LeaveOneOutSplit, leave_one_out
from .templates import Template, get_template, register_template

__version__ = "0.1.0"

# Training and model classes import torch and transformers: resolved on first use only.
_LAZY = {
    "InstructRecTrainer": "trainer", "InstructRecConfig": "config", "ModelArguments": "config",
    "DataArguments": "config", "parse_config": "config", "run_tuning": "tuning", "Manifest": "manifest",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "InstructRecTrainer", "InstructRecConfig", "ModelArguments", "DataArguments", "parse_config", "run_tuning",
    "Manifest", "ColumnMap", "DataError", "InstructRecError", "InteractionLog", "ItemCatalog", "LeaveOneOutSplit",
    "Template", "TemplateError", "get_template", "leave_one_out", "register_template", "safe_format",
    "templates", "vocabulary", "__version__",
]
