"""The configs that ship with the package, addressable by name from any folder.

``instructrec-peft tune items-cpu`` reads ``config/named/items-cpu.yaml`` from the installed
package (the checkout's ``recipes/configs/`` is the same folder); a path to a YAML file works as
before. Each config's first comment line says what it is for; ``tune --help`` lists them.

>>> sorted(named_configs())[:2]
['demo-cpu', 'gpt2-consumer-gpu']
>>> config_path("items-cpu").name
'items-cpu.yaml'
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ConfigError

__all__ = ["NAMED_DIR", "named_configs", "config_path", "describe"]

NAMED_DIR = Path(__file__).resolve().parent / "named"


def named_configs() -> dict[str, Path]:
    """``{name: path}`` of the packaged configs."""
    return {p.stem: p for p in sorted(NAMED_DIR.glob("*.yaml"))}


def config_path(name_or_path: str) -> Path:
    """A packaged config's file for its name, else ``name_or_path`` as a path (which must exist)."""
    named = named_configs()
    if name_or_path in named:
        return named[name_or_path]
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    if path.suffix in (".yaml", ".yml") or "/" in name_or_path:
        raise ConfigError(f"config file {path} does not exist; the packaged configs are named {', '.join(named)}")
    raise ConfigError(f"{name_or_path!r} is neither a packaged config ({', '.join(named)}) nor a YAML file")


def describe(path: Path) -> str:
    """What the config is for: its first comment line, up to the first colon, semicolon or full stop."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return re.split(r"[:;]\s|\.\s|\.$", line.lstrip("# ").strip(), maxsplit=1)[0]
    return ""
