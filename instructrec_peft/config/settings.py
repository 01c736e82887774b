"""How a config field is declared and checked: its help text and, where the values are a closed
set, its choices, in one place. ``HfArgumentParser`` hands the choices to argparse (so ``--help``
lists them and a wrong flag names them), and :func:`check_choices` applies the same list to values
that come from a YAML file or a saved run, which argparse never sees.

>>> from dataclasses import dataclass
>>> @dataclass
... class Example:
...     method: str = setting("lora", "how to adapt", choices=("lora", "prompt_tuning"))
...     def __post_init__(self):
...         check_choices(self)
>>> Example("ia3")
Traceback (most recent call last):
...
instructrec_peft.errors.ConfigError: Example.method: 'ia3' is not one of ('lora', 'prompt_tuning')
"""

from __future__ import annotations

from dataclasses import MISSING, field, fields
from typing import Any, Sequence

from ..errors import ConfigError

__all__ = ["setting", "fail", "check_choices"]


def setting(default: Any = MISSING, help: str = "", *, choices: Sequence | None = None,
            default_factory: Any = MISSING):
    """A dataclass field with its help text (and its allowed values, when they are a closed set)."""
    if not help:
        raise ConfigError("every config field says what it does: pass help=")
    metadata = {"help": help} if choices is None else {"help": help, "choices": tuple(choices)}
    return field(default=default, default_factory=default_factory, metadata=metadata)


def fail(owner: str, name: str, message: str):
    raise ConfigError(f"{owner}.{name}: {message}")


def check_choices(config, names: Sequence[str] | None = None) -> None:
    """Every field declared with choices (of ``names``, when given) holds one of them (each
    element, for a list; None where the field allows it)."""
    for f in fields(config):
        if names is not None and f.name not in names:
            continue
        allowed = f.metadata.get("choices")
        value = getattr(config, f.name)
        if allowed is None or value is None:
            continue
        wrong = [v for v in (value if isinstance(value, list) else [value]) if v not in allowed]
        if wrong:
            shown = wrong[0] if not isinstance(value, list) else wrong
            fail(type(config).__name__, f.name, f"{shown!r} is not one of {allowed}")
