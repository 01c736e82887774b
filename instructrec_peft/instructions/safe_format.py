"""Render ``{placeholder}`` strings without evaluating anything.

Templates and item-text formats come from data files that users share, so they must not be able
to reach object internals the way ``str.format`` can (``{x.__class__}``, ``{x[0]}``). Here a
format string is parsed once into literal text and bare names; rendering is concatenation.

>>> fields("Is {item} a {noun}?")
('item', 'noun')
>>> render("Is {item} a {noun}? {{braces}}", {"item": "Alien (1979)", "noun": "movie"})
'Is Alien (1979) a movie? {braces}'
"""

from __future__ import annotations

import string
from typing import Mapping

from ..errors import FormatError

__all__ = ["FormatError", "parse", "fields", "render"]


def parse(fmt: str) -> tuple[tuple[str, str | None], ...]:
    """Split ``fmt`` into ``(literal, name_or_None)`` pairs; refuse anything but ``{name}``."""
    try:
        parsed = list(string.Formatter().parse(fmt))
    except ValueError as err:
        raise FormatError(f"malformed format string {fmt!r}: {err}") from None
    pieces = []
    for literal, name, spec, conversion in parsed:
        if name is not None:
            if not name.isidentifier():
                raise FormatError(
                    f"placeholder {{{name}}} in {fmt!r} is not a bare name: attribute or index access "
                    "and positional fields are refused"
                )
            if spec or conversion:
                raise FormatError(f"placeholder {{{name}}} in {fmt!r} may not carry a conversion or format spec")
        pieces.append((literal, name))
    return tuple(pieces)


def fields(fmt: str) -> tuple[str, ...]:
    """The placeholder names of ``fmt`` in order of first appearance."""
    seen: dict[str, None] = {}
    for _, name in parse(fmt):
        if name is not None:
            seen.setdefault(name)
    return tuple(seen)


def render(fmt: str | tuple, values: Mapping[str, str]) -> str:
    """Fill ``fmt`` (a string or the output of :func:`parse`) from ``values``."""
    pieces = parse(fmt) if isinstance(fmt, str) else fmt
    out = []
    for literal, name in pieces:
        out.append(literal)
        if name is not None:
            try:
                out.append(str(values[name]))
            except KeyError:
                raise FormatError(f"no value for placeholder {{{name}}}") from None
    return "".join(out)
