"""Settings of the ranking evaluation a tuning run does on its validation users."""

from __future__ import annotations

from dataclasses import dataclass

from .settings import fail, setting

__all__ = ["EvaluationArguments"]


@dataclass
class EvaluationArguments:
    eval_template: str = setting("p1-i0-matching-1", "template of the ranking evaluation (a matching or reranking "
                                                     "template)")
    eval_users: int = setting(100, "validation users ranked at each evaluation; 0: all")

    def _check_evaluation(self) -> None:
        if self.eval_users < 0:
            fail(type(self).__name__, "eval_users", f"must be >= 0 (0: all), got {self.eval_users}")
