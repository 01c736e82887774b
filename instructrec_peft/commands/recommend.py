"""``instructrec-peft recommend ADAPTER --history ITEM ... [-k 10] [--intention ...] [--explain]``:
the top k items for a history, with scores (and reasons)."""

from __future__ import annotations

import argparse

from .common import add_trust_remote_code, positive, read_history

__all__ = ["add_parser", "run", "checked_history", "print_ranked"]


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("recommend", help="the top k items for a history, with scores")
    parser.add_argument("adapter", help="a tuning run's output directory")
    parser.add_argument("--history", nargs="+", required=True, metavar="ITEM",
                        help="items the user liked, oldest first: ids or titles as you would type them ('the "
                             "silence of the lambs'; the year when two films share a title); '-' reads them from "
                             "stdin")
    parser.add_argument("--intention", help="what the user is looking for now, in their words: 'something scary', "
                        "'a Crime, Thriller movie', 'not Horror'")
    parser.add_argument("--preference", help="a statement of taste, e.g. 'I like Westerns but not Horror'")
    parser.add_argument("-k", type=positive, default=10, help="how many items (default 10)")
    parser.add_argument("--explain", action="store_true", help="a reason for each item")
    add_trust_remote_code(parser)
    return parser


def checked_history(args: argparse.Namespace, items: list[str] | None = None) -> list[str]:
    """``--history`` (and ``items``), each found as typed (case, articles, the year optional) in an
    item-token adapter's map before any model loads; a text-only adapter takes them as given."""
    from pathlib import Path

    from ..inference.spaces import TokenSpace
    from ..models.loading import item_tokens_of

    history = read_history(args.history)
    tokens = item_tokens_of(args.adapter) if Path(args.adapter).is_dir() else None
    if tokens is not None:
        space = TokenSpace(tokens)
        history = space.ids(history)
        if items is not None:
            space.ids(items)
    return history


def print_ranked(rows) -> None:
    """``rank. item  (score)`` lines, as both recommend and rank print them."""
    width = len(str(len(rows)))
    for rank, item, score in rows:
        print(f"{rank:>{width}}. {item}  ({score:.3f})")


def run(args: argparse.Namespace) -> int:
    from ..inference.app import load_recommender, recommend_rows

    history = checked_history(args)
    rec, _ = load_recommender(args.adapter, trust_remote_code=args.trust_remote_code)
    rows = recommend_rows(rec, history, args.intention or "", k=args.k, explain=args.explain,
                          preference=args.preference or "")
    width = len(str(len(rows)))
    for rank, item, score, reason in rows:
        print_ranked([(rank, item, score)])
        if args.explain:
            print(f"{' ' * (width + 2)}{reason}")
    return 0
