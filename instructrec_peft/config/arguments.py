"""``DataArguments``: every data-side setting of a run, one concern per parent class
(:mod:`.data`, :mod:`.prompts`, :mod:`.item_space`, :mod:`.evaluation`), so that a run's code reads
``data_args.X`` whatever the concern, and the checks that span concerns live here."""

from __future__ import annotations

from dataclasses import dataclass

from .data import DataSourceArguments
from .evaluation import EvaluationArguments
from .item_space import ItemSpaceArguments
from .prompts import PromptArguments
from .settings import fail

__all__ = ["DataArguments"]


@dataclass
class DataArguments(EvaluationArguments, ItemSpaceArguments, PromptArguments, DataSourceArguments):
    """The data source, the instructions, the item space and the evaluation of a run."""

    def __post_init__(self):
        self._check_source()
        self._check_prompts()
        self._check_item_space()
        self._check_evaluation()
        from ..data.presets import PRESET_VOCABULARY
        from ..instructions import templates as registry

        name = "DataArguments"
        if self.vocabulary is None:
            self.vocabulary = PRESET_VOCABULARY.get(self.data_preset, "movie")
        for key, names in (("templates", self.templates or ()), ("eval_template", [self.eval_template])):
            for template in names:
                try:
                    registry.get_template(template)
                except ValueError as err:
                    fail(name, key, str(err))
        evaluation = registry.get_template(self.eval_template)
        if evaluation.task not in ("matching", "reranking") or evaluation.response_field not in ("target", "label"):
            fail(name, "eval_template", f"{self.eval_template!r} is a {evaluation.task} template; ranking evaluation "
                 "scores candidates as completions, so use a matching or reranking template")
        if self.item_tokens and self.feedback_file:
            fail(name, "feedback_file", "feedback becomes Yes/No examples, which item-token runs do not train on; "
                 "tune on feedback without item_tokens")
        if self.item_tokens:
            # An item-token answer is one token scored over the catalogue: the task forms that
            # answer with an item. Yes/No and letter answers are not item tokens.
            other = [t for t in self.task_mix_weights if t not in ("matching", "reranking")]
            if other:
                fail(name, "task_mix", f"{other} answer with Yes/No or a choice, not an item; with item_tokens use "
                     "matching and reranking")
            for key, names in (("templates", self.templates or ()), ("eval_template", [self.eval_template])):
                labels = [t for t in names if registry.get_template(t).response_field == "label"]
                if labels:
                    fail(name, key, f"{labels} answer with a list label; with item_tokens the answer is the item's "
                         "token, so use templates that answer with {target}")
