"""The examples in module docstrings are part of the documentation: they must run."""

import doctest
import importlib

import pytest

MODULES = ["instructrec_peft.safe_format", "instructrec_peft.templates", "instructrec_peft.vocabulary",
           "instructrec_peft.collator", "instructrec_peft.manifest"]


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
