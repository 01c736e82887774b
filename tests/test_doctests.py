"""The examples in module docstrings are part of the documentation: every module that has one
runs its examples here (those that need a model or a real log are marked ``+SKIP``)."""

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                 for folder in ("instructrec_peft", "benchmarks") for p in (ROOT / folder).rglob("*.py")
                 if ">>>" in p.read_text())


def test_the_modules_with_examples_are_found():
    assert len(MODULES) >= 50 and "instructrec_peft.instructions.requests" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, report=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
