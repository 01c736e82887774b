"""The instruction-template registry (InstructRec taxonomy).

Every template combines a **preference** level (P0 none, P1 implicit history, P2 explicit
statement), an **intention** level (I0 none, I1 vague, I2 specific) and a **task form**
(pointwise, pairwise, matching, reranking). The built-in templates are data
(``templates.json`` beside this module); users add their own with :func:`register_template`. A template is
checked when it is registered, so a typo in a placeholder fails at once, naming the template.

Placeholders, filled without evaluation (see :mod:`instructrec_peft.instructions.safe_format`):

* vocabulary: ``{noun} {nouns} {verb} {past}`` (see :mod:`instructrec_peft.instructions.vocabulary`);
* prompt data: ``{history}`` (P1, optional in P2), ``{preference}`` (P2), ``{intention}`` (I1, I2),
  ``{item}`` (pointwise), ``{item_a} {item_b}`` (pairwise), ``{candidates}`` (reranking);
* response: ``{answer}`` (pointwise: Yes/No), ``{choice}`` (pairwise: the chosen item),
  ``{target}`` (matching, reranking: the target item) or ``{label}`` (reranking: its list label).

>>> t = get_template("p1-i0-matching-1")
>>> r = t.render(vocabulary="movie", history=["Alien (1979)", "Heat (1995)"], target="Fargo (1996)")
>>> r.prompt
'The user watched the following movies, oldest first: "Alien (1979)", "Heat (1995)". Which movie will the user watch \
next?'
>>> r.completion
'Fargo (1996)'
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable, Iterable, Sequence

from ..errors import ArgumentError, TemplateError
from . import safe_format
from .vocabulary import VOCABULARY_FIELDS, Vocabulary, get_vocabulary

__all__ = [
    "PREFERENCES", "INTENTIONS", "TASKS", "Template", "RenderedPrompt", "TEMPLATES", "BUILTIN_VERSION",
    "register_template", "get_template", "select", "all", "candidate_labels", "format_history",
    "format_candidates",
]

PREFERENCES = ("P0", "P1", "P2")
INTENTIONS = ("I0", "I1", "I2")
TASKS = ("pointwise", "pairwise", "matching", "reranking")

# Which prompt placeholders each aspect level requires, and which response placeholders each
# task form may use (exactly one of them must appear).
_PREFERENCE_REQUIRES = {"P0": set(), "P1": {"history"}, "P2": {"preference"}}
_PREFERENCE_FORBIDS = {"P0": {"history", "preference"}, "P1": {"preference"}, "P2": set()}
_TASK_REQUIRES = {"pointwise": {"item"}, "pairwise": {"item_a", "item_b"}, "matching": set(),
                  "reranking": {"candidates"}}
_TASK_RESPONSES = {"pointwise": {"answer"}, "pairwise": {"choice"}, "matching": {"target"},
                   "reranking": {"target", "label"}}
_DATA_FIELDS = {"history", "preference", "intention", "item", "item_a", "item_b", "candidates"}
PROMPT_FIELDS = frozenset(_DATA_FIELDS | set(VOCABULARY_FIELDS))
RESPONSE_FIELDS = frozenset().union(*_TASK_RESPONSES.values())


def candidate_labels(n: int) -> list[str]:
    """Labels of a listed candidate set: letters up to 26 candidates, then numbers."""
    if n <= 26:
        return [chr(ord("A") + i) for i in range(n)]
    return [str(i + 1) for i in range(n)]


HISTORY_STYLES = ("quoted", "joined")


def format_history(texts: Sequence[str], style: str = "quoted") -> str:
    """``quoted``: ``"A", "B"`` (item names contain commas: "Usual Suspects, The (1995)").
    ``joined``: ``AB``, for item tokens, which delimit themselves; each token is then directly
    followed by the next, so every history position predicts the next item."""
    if style == "joined":
        return "".join(texts)
    if style != "quoted":
        raise ArgumentError(f"history style {style!r} is not one of {HISTORY_STYLES}")
    return ", ".join(f'"{text}"' for text in texts)


def format_candidates(texts: Sequence[str]) -> str:
    return "\n".join(f"{label}. {text}" for label, text in zip(candidate_labels(len(texts)), texts))


@dataclass(frozen=True)
class RenderedPrompt:
    prompt: str
    completion: str
    history_used: int  # how many of the newest history items fitted the budget


@dataclass(frozen=True)
class Template:
    """One instruction template; validated on construction."""

    name: str
    preference: str
    intention: str
    task: str
    prompt: str
    response: str
    source: str = "user"
    _prompt_parts: tuple = field(init=False, repr=False, compare=False)
    _response_parts: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        where = f"template {self.name!r}"
        if not isinstance(self.name, str) or not self.name.strip() or self.name != self.name.strip():
            raise TemplateError(f"template name {self.name!r} must be a non-empty string without surrounding spaces")
        for aspect, value, allowed in (("preference", self.preference, PREFERENCES),
                                       ("intention", self.intention, INTENTIONS), ("task", self.task, TASKS)):
            if value not in allowed:
                raise TemplateError(f"{where}: {aspect} {value!r} is not one of {allowed}")
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise TemplateError(f"{where}: the prompt must be a non-empty string, got {type(self.prompt).__name__}")
        if not isinstance(self.response, str) or not self.response.strip():
            raise TemplateError(f"{where}: the response part is missing; a {self.task} template answers with "
                                f"{' or '.join('{' + f + '}' for f in sorted(_TASK_RESPONSES[self.task]))}")
        try:
            prompt_parts, response_parts = safe_format.parse(self.prompt), safe_format.parse(self.response)
        except safe_format.FormatError as err:
            raise TemplateError(f"{where}: {err}") from None
        used = set(safe_format.fields(self.prompt))
        unknown = used - PROMPT_FIELDS
        if unknown:
            raise TemplateError(f"{where}: unknown placeholder(s) {_braced(unknown)} in the prompt; "
                                f"known: {_braced(PROMPT_FIELDS)}")
        required = _PREFERENCE_REQUIRES[self.preference] | _TASK_REQUIRES[self.task]
        if self.intention != "I0":
            required = required | {"intention"}
        if required - used:
            raise TemplateError(f"{where}: a {self.preference}/{self.intention}/{self.task} prompt must contain "
                                f"{_braced(required - used)}")
        forbidden = _PREFERENCE_FORBIDS[self.preference] | ({"intention"} if self.intention == "I0" else set())
        forbidden |= set().union(*(_TASK_REQUIRES[t] for t in TASKS if t != self.task)) - _TASK_REQUIRES[self.task]
        if used & forbidden:
            raise TemplateError(f"{where}: {_braced(used & forbidden)} does not belong in a "
                                f"{self.preference}/{self.intention}/{self.task} prompt")
        answers = set(safe_format.fields(self.response))
        allowed = _TASK_RESPONSES[self.task]
        if len(answers) != 1 or not answers <= allowed:
            raise TemplateError(f"{where}: the response must contain exactly one of {_braced(allowed)}, "
                                f"found {_braced(answers) or 'none'}")
        object.__setattr__(self, "_prompt_parts", prompt_parts)
        object.__setattr__(self, "_response_parts", response_parts)

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(safe_format.fields(self.prompt))

    @property
    def response_field(self) -> str:
        return safe_format.fields(self.response)[0]

    @property
    def aspects(self) -> tuple[str, str, str]:
        return self.preference, self.intention, self.task

    def to_dict(self) -> dict[str, str]:
        keys = ("name", "preference", "intention", "task", "prompt", "response", "source")
        return {k: getattr(self, k) for k in keys}

    def render(
        self,
        *,
        vocabulary: str | Vocabulary,
        history: Sequence[str] = (),
        candidates: Sequence[str] = (),
        count_tokens: Callable[[str], int] | None = None,
        max_prompt_tokens: int | None = None,
        max_history_items: int | None = None,
        history_style: str = "quoted",
        **values: str,
    ) -> RenderedPrompt:
        """Fill the template; fit the history into the budget by dropping its oldest items.

        ``history`` and ``candidates`` are item texts (history oldest first). Other values
        (``preference``, ``intention``, ``item``, ``answer``, ``target``, ...) are strings. With
        ``count_tokens`` and ``max_prompt_tokens``, the newest items that fit are kept; the
        instruction, intention and candidates are never cut, and a P1 prompt keeps at least
        one history item, else :class:`TemplateError` says by how much the budget is short.
        ``history_style``: how the history items are joined (:func:`format_history`).
        """
        filled = dict(get_vocabulary(vocabulary).as_values())
        filled.update(values)
        if "candidates" in self.fields:
            if not candidates:
                raise TemplateError(f"template {self.name!r}: the candidate list is empty")
            filled["candidates"] = format_candidates(candidates)
        missing = (self.fields - {"history"} - filled.keys()) | ({self.response_field} - filled.keys())
        if missing:
            raise TemplateError(f"template {self.name!r}: no value given for {_braced(missing)}")
        completion = safe_format.render(self._response_parts, filled)
        if "history" not in self.fields:
            prompt = safe_format.render(self._prompt_parts, filled)
            if count_tokens and max_prompt_tokens and count_tokens(prompt) > max_prompt_tokens:
                raise TemplateError(f"template {self.name!r}: the prompt needs {count_tokens(prompt)} tokens, over "
                                    f"the budget of {max_prompt_tokens}; it has no history to shorten")
            return RenderedPrompt(prompt, completion, 0)

        history = list(history)
        if max_history_items is not None:
            history = history[-max_history_items:] if max_history_items > 0 else []
        minimum = 1 if self.preference == "P1" else 0
        if len(history) < minimum:
            raise TemplateError(f"template {self.name!r} is P1 (implicit preference) but the history is empty")

        def build(keep: int) -> str:
            kept = history[len(history) - keep:] if keep else []
            return safe_format.render(self._prompt_parts, {**filled, "history": format_history(kept, history_style)})

        keep = len(history)
        if count_tokens and max_prompt_tokens and count_tokens(build(keep)) > max_prompt_tokens:
            # Largest number of newest items that fits: the count grows with ``keep``, so bisect.
            low, high = minimum, keep - 1
            if count_tokens(build(low)) > max_prompt_tokens:
                raise TemplateError(
                    f"template {self.name!r}: even with {low} history item(s) the prompt needs "
                    f"{count_tokens(build(low))} tokens, over the budget of {max_prompt_tokens}; the instruction, "
                    "intention and candidates are never cut: raise the budget or shorten them")
            while low < high:
                mid = (low + high + 1) // 2
                if count_tokens(build(mid)) <= max_prompt_tokens:
                    low = mid
                else:
                    high = mid - 1
            keep = low
        return RenderedPrompt(build(keep), completion, keep)


def _braced(names: Iterable[str]) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names))


TEMPLATES: dict[str, Template] = {}


def register_template(template: Template | dict, *, overwrite: bool = False) -> Template:
    """Add a template (a :class:`Template` or a dict of its fields) to the registry."""
    if isinstance(template, dict):
        unknown = set(template) - {"name", "preference", "intention", "task", "prompt", "response", "source"}
        if unknown:
            raise TemplateError(f"template {template.get('name')!r}: unknown field(s) {sorted(unknown)}")
        template = Template(**template)
    if template.name in TEMPLATES and not overwrite:
        raise TemplateError(f"template {template.name!r} is already registered; choose another name or pass "
                            "overwrite=True")
    TEMPLATES[template.name] = template
    return template


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        close = difflib.get_close_matches(name, TEMPLATES, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise TemplateError(f"unknown template {name!r}{hint} ({len(TEMPLATES)} registered)") from None


def select(preference: str | Iterable[str] | None = None, intention: str | Iterable[str] | None = None,
           task: str | Iterable[str] | None = None) -> list[Template]:
    """Templates whose aspects match; each filter is a level, a list of levels, or ``None`` (any)."""
    def accept(value, wanted, allowed, aspect):
        if wanted is None:
            return True
        wanted = {wanted} if isinstance(wanted, str) else set(wanted)
        if wanted - set(allowed):
            raise TemplateError(f"unknown {aspect} level(s) {sorted(wanted - set(allowed))}; expected {allowed}")
        return value in wanted
    return [t for t in TEMPLATES.values()
            if accept(t.preference, preference, PREFERENCES, "preference")
            and accept(t.intention, intention, INTENTIONS, "intention") and accept(t.task, task, TASKS, "task")]


def all() -> list[Template]:  # noqa: A001 - `templates.all()` reads naturally at call sites
    return list(TEMPLATES.values())


def _load_builtin() -> str:
    data = json.loads(resources.files(__package__).joinpath("templates.json").read_text(encoding="utf-8"))
    for entry in data["templates"]:
        register_template({**entry, "source": "builtin"})
    return data["version"]


BUILTIN_VERSION = _load_builtin()
