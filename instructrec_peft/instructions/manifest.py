"""The template manifest saved beside an adapter, so inference renders the prompts it learned.

It records which templates (their full text, so user-registered ones travel too), which
vocabulary, how prompts were encoded (chat template or not, system prompt) and the budgets.
It is data: loading it registers templates through the validating registry, never evaluates.

>>> m = Manifest(templates=[get_template("p1-i0-matching-1").to_dict()], eval_template="p1-i0-matching-1")
>>> Manifest.from_dict(m.to_dict()) == m
True
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .._version import __version__
from ..errors import ArgumentError, MissingFileError, TemplateError
from ..files import write_text_atomic
from ..run_dir import RunDir
from .templates import BUILTIN_VERSION, TEMPLATES, Template, get_template, register_template

__all__ = ["Manifest"]

# What each field may hold when read from a file (a manifest is data from an adapter folder).
_FIELD_TYPES = {"templates": (list,), "eval_template": (str,), "vocabulary": (str,), "task_mix": (dict,),
                "chat_template": (bool,), "system_prompt": (str,), "max_history_items": (int,),
                "max_prompt_tokens": (int,), "num_candidates": (int,), "base_model": (str,), "example": (dict,),
                "item_tokens": (dict,), "item_text": (str,), "history_style": (str,), "answer_separator": (str,),
                "builtin_templates_version": (str,), "package_version": (str,)}
_OPTIONAL = {"system_prompt", "base_model", "example", "item_tokens"}


@dataclass
class Manifest:
    templates: list[dict]
    eval_template: str
    vocabulary: str = "movie"
    task_mix: dict[str, float] = field(default_factory=lambda: {"matching": 1.0})
    chat_template: bool = True
    system_prompt: str | None = None
    max_history_items: int = 10
    max_prompt_tokens: int = 384
    num_candidates: int = 10
    base_model: str | None = None
    # One rendered evaluation prompt and its answer, for the model card: {"prompt", "completion"}.
    example: dict | None = None
    # Items as tokens (item_tokens.ItemTokens.to_dict: first token id, item ids, item texts), how
    # items appear in prompts (item_tokens.ITEM_TEXT_MODES) and how a history is joined.
    item_tokens: dict | None = None
    item_text: str = "title"
    history_style: str = "quoted"
    answer_separator: str = "\n"
    builtin_templates_version: str = BUILTIN_VERSION
    package_version: str = __version__

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Manifest":
        if not isinstance(data, dict):
            raise ArgumentError(f"template manifest: expected a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ArgumentError(f"template manifest: unknown field(s) {sorted(unknown)}")
        for key, value in data.items():
            expected = _FIELD_TYPES[key]
            if not (value is None and key in _OPTIONAL) and (
                    not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected)):
                names = " or ".join(t.__name__ for t in expected) + (" or null" if key in _OPTIONAL else "")
                raise ArgumentError(f"template manifest: field {key!r} is {value!r:.80} ({type(value).__name__}); "
                                    f"expected {names}")
        if not all(isinstance(t, dict) for t in data.get("templates", [])):
            raise ArgumentError("template manifest: 'templates' must be a list of template objects")
        return cls(**data)

    def save(self, directory: str | Path) -> Path:
        return write_text_atomic(RunDir(directory).manifest,
                                 json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> "Manifest":
        run = RunDir(directory)
        if not run.manifest.is_file():
            raise MissingFileError(f"{run.manifest}: no template manifest; was this directory written by "
                                   "instructrec-peft?")
        return cls.from_dict(run.read_json(run.MANIFEST))

    def register(self) -> list[Template]:
        """Make the manifest's templates available; a name already registered must match exactly."""
        out = []
        allowed = {f.name for f in fields(Template) if f.init}
        for entry in self.templates:
            unknown = sorted(set(entry) - allowed)
            if unknown:
                raise TemplateError(f"template manifest: template {entry.get('name')!r} has unknown field(s) "
                                    f"{unknown}")
            try:
                template = Template(**entry)
            except TypeError as err:  # a required field missing
                raise TemplateError(f"template manifest: template {entry.get('name')!r}: {err}") from None
            existing = TEMPLATES.get(template.name)
            if existing is None:
                register_template(template)
            elif (existing.prompt, existing.response, existing.aspects) != (template.prompt, template.response,
                                                                             template.aspects):
                raise TemplateError(f"template {template.name!r} in the manifest differs from the registered one; "
                                    "the adapter was trained on the manifest's wording")
            out.append(get_template(template.name))
        return out
