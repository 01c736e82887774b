"""Reading a run's settings: a YAML file plus command-line overrides into the three dataclasses
(``HfArgumentParser``), and the settings a tuning run saved beside its adapter. A YAML value of
the wrong type, or an unknown key, is refused with the file and the field (and the nearest known
name), not left to fail later.

    python recipes/tune.py recipes/configs/items-cpu.yaml --max_steps 20 --lora_r 8
    instructrec-peft tune items-cpu --max_steps 20          # a packaged config, by name (named_configs.py)
"""

from __future__ import annotations

import difflib
import functools
import math
import sys
from dataclasses import fields
from pathlib import Path

from transformers import HfArgumentParser

from ..errors import ConfigError, MissingFileError
from ..run_dir import RunDir
from .arguments import DataArguments
from .model import ModelArguments
from .named_configs import config_path, named_configs
from .training import InstructRecConfig

__all__ = ["parse_config", "saved_configs"]


class _Parser(HfArgumentParser):
    """argparse, but a bad flag is our ``ConfigError`` (one ``error:`` line from the CLI, a catchable
    error in Python) instead of a usage dump and ``SystemExit``."""

    def error(self, message: str):
        raise ConfigError(message)


def _known_fields() -> dict[str, type]:
    known = {}
    for cls in (ModelArguments, DataArguments, InstructRecConfig):
        for f in fields(cls):
            if f.init:
                known[f.name] = cls
    return known


@functools.lru_cache(maxsize=1)
def _field_types() -> dict[str, object]:
    """Each config field's type hint, resolved once (callers must not change the dict)."""
    import typing

    types = {}
    for cls in (ModelArguments, DataArguments, InstructRecConfig):
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # an annotation this Python cannot evaluate: fall back to its text
            hints = {}
        for f in fields(cls):
            if f.init:
                types[f.name] = hints.get(f.name, f.type)
    return types


def parse_config(argv: list[str] | None = None) -> tuple[ModelArguments, DataArguments, InstructRecConfig]:
    """Parse ``[config] [--field value ...]``: the config (a YAML file, or the name of a packaged
    one) gives defaults, the command line overrides."""
    import yaml

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _Parser((ModelArguments, DataArguments, InstructRecConfig))
    if argv and (argv[0].endswith((".yaml", ".yml")) or argv[0] in named_configs()
                 or not argv[0].startswith("-")):
        path = config_path(argv.pop(0))
        try:
            # safe_load builds plain data only: a !!python/... tag is refused, never run.
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except UnicodeDecodeError as err:
            raise ConfigError(f"{path}: not valid UTF-8 (byte {err.start}); save the config as UTF-8") from None
        except yaml.YAMLError as err:
            where = getattr(err, "problem_mark", None)
            at = f", line {where.line + 1}, column {where.column + 1}" if where is not None else ""
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise ConfigError(f"{path}{at}: not valid YAML ({problem}); a config is a mapping of field: value") \
                from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of field: value at the top level")
        known, types = _known_fields(), _field_types()
        for key, value in loaded.items():
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{path}: unknown config field {key!r}{hint}")
            loaded[key] = _check_value(known[key].__name__, key, value, types[key], path)
        parser.set_defaults(**loaded)
    model_args, data_args, train_args = parser.parse_args_into_dataclasses(args=argv)
    return model_args, data_args, train_args


def saved_configs(directory: str | Path, hint: str = "not a folder written by instructrec-peft tuning", *,
                  trust_remote_code: bool = False) -> tuple[ModelArguments, DataArguments | None]:
    """The model and data arguments a tuning run saved beside its adapter (``RunDir.CONFIG``).

    ``trust_remote_code`` is the caller's, never the folder's: a run folder (or a Hub adapter) that
    saved ``trust_remote_code: true`` and names a base with an ``auto_map`` would otherwise run that
    base's Python code on load. A folder that asks for it, loaded without the caller's opt-in, is an
    error that says how to opt in.
    """
    run = RunDir(directory)
    if not run.config.is_file():
        raise MissingFileError(f"{run.config}: missing; {hint}")
    saved = run.read_json(run.CONFIG)
    model, data = saved.get("model"), saved.get("data")
    if not isinstance(model, dict):
        raise ConfigError(f"{run.config}: field 'model' must be a mapping of ModelArguments fields, got "
                          f"{type(model).__name__}")
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{run.config}: field 'data' must be a mapping of DataArguments fields, got "
                          f"{type(data).__name__}")
    if model.get("trust_remote_code") is True and not trust_remote_code:
        raise ConfigError(f"{run.config}: the adapter was tuned with trust_remote_code: true, so loading it would "
                          f"run Python code shipped with its base model {model.get('model_name_or_path')!r}; it is "
                          "not turned on from a saved file. If you trust that code, opt in yourself: "
                          "trust_remote_code=True (command line: --trust_remote_code)")
    model = {**model, "trust_remote_code": bool(trust_remote_code)}
    # task_mix_weights is derived from task_mix on construction, not a field.
    data = {k: v for k, v in data.items() if k != "task_mix_weights"} if data else None
    return (_from_saved(ModelArguments, model, run.config),
            _from_saved(DataArguments, data, run.config) if data else None)


def _from_saved(cls, values: dict, path: Path):
    """``cls(**values)`` with a saved file's unknown or wrongly typed fields named, not a TypeError."""
    known, types = {f.name: f for f in fields(cls) if f.init}, _field_types()
    values = dict(values)
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"{path}: unknown {cls.__name__} field(s) {unknown}; was it written by another version "
                          "or edited?")
    for key, value in values.items():
        # get_type_hints, not Field.type: HfArgumentParser rewrites Field.type in place (Optional[str] -> str).
        values[key] = _check_value(cls.__name__, key, value, types[key], path, parsed_text=False)
    return cls(**values)


def _check_value(owner: str, key: str, value, annotation, where, parsed_text: bool = True):
    """Refuse a value of the wrong type for a dataclass field, naming ``where`` (a file) and the field.

    YAML values reach the dataclasses as parsed (argparse converts only strings), so ``lora_r: 2.5``
    or ``true`` would pass unchecked and a string for a list field would be read letter by letter.
    ``annotation`` is the field's resolved type hint (:func:`_field_types`; its text where a hint
    cannot be resolved); the shapes below cover the fields of the three configs. Returns
    the value, a number given for a text field as text (``category_path: 2``). ``parsed_text``: text
    for a number or a truth value is accepted (argparse converts it); a saved file gets no such pass.
    """
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    text = text.replace("typing.", "").replace("Optional[", "")
    if value is None:
        if "None" not in text and "Optional" not in str(annotation):
            raise ConfigError(f"{where}: {owner}.{key} is null; expected {text}")
        return value
    kind = next((k for k in ("bool", "int", "float", "list", "dict", "str") if text.startswith(k)), None)
    if isinstance(value, str) and kind in ("bool", "int", "float") and not parsed_text:
        ok = False
    elif kind == "bool":
        ok = isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"))
    elif kind == "int":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str)
                                                                          and value.strip().lstrip("-").isdigit())
    elif kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if isinstance(value, str):  # PyYAML reads 1e-3 (no dot) as a string; argparse converts it
            try:
                ok = math.isfinite(float(value))
            except ValueError:
                ok = False
        elif ok:
            ok = math.isfinite(value)
    elif kind == "list":
        ok = isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                             for v in value)
    elif kind == "str":
        ok = isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                        and "list" not in text)
    else:
        ok = True
    if not ok:
        hint = "; give a list, e.g. [a, b]" if kind == "list" and isinstance(value, str) else ""
        raise ConfigError(f"{where}: {owner}.{key} is {value!r} ({type(value).__name__}); expected {text}{hint}")
    return str(value) if kind == "str" and not isinstance(value, str) else value
