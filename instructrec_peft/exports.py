"""Stage packages export their public names without importing them up front.

``from instructrec_peft.training import InstructRecTrainer`` should work, but importing any
module of a stage runs the stage's ``__init__`` first: if that imported the trainer (torch,
transformers), reading a CSV with ``instructrec_peft.data`` would pay for it. Each stage lists its
names and the module that defines them; a name is imported on first use (PEP 562).

>>> getattr_, names = lazy_exports("instructrec_peft.data", {"leave_one_out": "split"})
>>> names, getattr_("leave_one_out").__name__
(['leave_one_out'], 'leave_one_out')
"""

from __future__ import annotations

import importlib
from typing import Callable

__all__ = ["lazy_exports"]


def lazy_exports(package: str, table: dict[str, str]) -> tuple[Callable[[str], object], list[str]]:
    """The ``__getattr__`` and ``__all__`` of ``package`` for ``table`` (name -> module of the package)."""

    def __getattr__(name: str):
        if name in table:
            return getattr(importlib.import_module(f"{package}.{table[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__, sorted(table)
