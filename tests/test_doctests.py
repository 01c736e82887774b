"""The examples in module docstrings are part of the documentation: they must run."""

import doctest
import importlib

import pytest

MODULES = ["instructrec_peft.instructions.safe_format", "instructrec_peft.instructions.templates",
           "instructrec_peft.instructions.vocabulary", "instructrec_peft.errors",
           "instructrec_peft.training.collator", "instructrec_peft.instructions.manifest",
           "instructrec_peft.data.plain_text", "instructrec_peft.evaluation.paraphrases",
           "instructrec_peft.evaluation.category_filter", "instructrec_peft.instructions.requests",
           "instructrec_peft.evaluation.following"]


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
