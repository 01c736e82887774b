"""What several commands share: checked argument types and the history read from standard input."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

__all__ = ["positive", "read_history", "add_trust_remote_code"]


def positive(text: str) -> int:
    """A whole number >= 1, checked while parsing, before any model loads."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def read_history(history: Sequence[str]) -> list[str]:
    """``--history`` as given, or one item per line of standard input for ``-``."""
    return [line.strip() for line in sys.stdin if line.strip()] if list(history) == ["-"] else list(history)


def add_trust_remote_code(parser: argparse.ArgumentParser, what: str = "") -> None:
    parser.add_argument("--trust_remote_code", action="store_true",
                        help=f"{what}run Python code shipped with the base model (never turned on by the adapter's "
                             "folder)")
