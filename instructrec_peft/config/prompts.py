"""Settings of the instructions: the templates and task forms trained on, how a prompt is
wrapped and budgeted, the candidates and negatives, how many examples, and feedback."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..instructions.negatives import NEGATIVE_SOURCES
from ..instructions.templates import TASKS
from .settings import check_choices, fail, setting

__all__ = ["PromptArguments", "parse_task_mix"]


def parse_task_mix(text: str) -> dict[str, float]:
    """``"matching=2,reranking=1"`` -> ``{"matching": 2.0, "reranking": 1.0}``."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        task, sep, weight = part.partition("=")
        task = task.strip()
        if task not in TASKS:
            raise ConfigError(f"DataArguments.task_mix: unknown task form {task!r} in {text!r}; expected {TASKS}")
        try:
            value = float(weight) if sep else 1.0
        except ValueError:
            raise ConfigError(f"DataArguments.task_mix: weight {weight!r} of {task!r} is not a number") from None
        if value <= 0:
            raise ConfigError(f"DataArguments.task_mix: weight of {task!r} must be > 0, got {value}")
        mix[task] = value
    if not mix:
        raise ConfigError("DataArguments.task_mix: empty; e.g. 'matching=1' or 'matching=2,reranking=1'")
    return mix


@dataclass
class PromptArguments:
    # Not a closed set: register_vocabulary adds more (checked when the prompts are built).
    vocabulary: str | None = setting(None, "what the items are called (movie, product, course, article, book, song, "
                                           "game, or a registered one); default: the data preset's, else movie")
    task_mix: str = setting("matching=1", f"task-form weights, e.g. 'matching=2,reranking=1'; forms: "
                                          f"{', '.join(TASKS)}")
    templates: list[str] | None = setting(None, "template names to train on (default: all; instructrec-peft "
                                                "templates lists them)")
    system_prompt: str | None = setting(None, "system message for chat-template models (default: the template's own)")
    chat_template: bool | None = setting(
        None, "wrap prompts in the tokenizer's chat template (default: when it has one); false: plain text")
    answer_separator: str = setting(
        "\n", "plain-text prompts (chat_template: false): text between the prompt and the answer; item-token "
              "configs use '' so that the answer directly follows the last history item")
    max_history_items: int = setting(10, "newest history items shown")
    max_prompt_tokens: int = setting(384, "prompt budget; the oldest history goes first")
    num_candidates: int = setting(10, "ranking candidates: target + negatives")
    negatives: str = setting(
        "random", "negatives of reranking, pairwise and pointwise examples, train and validation (random: items "
                  "the user never touched; bpr/sasrec: that baseline's best untouched items after the history, "
                  "fitted on the train split: hard negatives)", choices=NEGATIVE_SOURCES)
    examples_per_user: int = setting(8, "train targets per user; 0: every train position")
    max_train_examples: int | None = setting(None, "cap on train examples (after shuffling)")
    feedback_file: str | None = setting(
        None, "JSONL feedback log (Recommender.record_feedback): accepted/rejected items become extra examples")
    feedback_repeats: int = setting(1, "copies of each feedback example (its weight)")

    def _check_prompts(self) -> None:
        name = type(self).__name__
        self.task_mix_weights = parse_task_mix(self.task_mix)
        for key in ("max_history_items", "max_prompt_tokens"):
            if getattr(self, key) < 1:
                fail(name, key, f"must be >= 1, got {getattr(self, key)}")
        if self.num_candidates < 2:
            fail(name, "num_candidates", f"must be >= 2, got {self.num_candidates}")
        if self.examples_per_user < 0:
            fail(name, "examples_per_user", f"must be >= 0 (0: all), got {self.examples_per_user}")
        if self.feedback_repeats < 1:
            fail(name, "feedback_repeats", f"must be >= 1, got {self.feedback_repeats}")
        if self.max_train_examples is not None and self.max_train_examples < 1:
            fail(name, "max_train_examples", f"must be >= 1, got {self.max_train_examples}")
        check_choices(self)
