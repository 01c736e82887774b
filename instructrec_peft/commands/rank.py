"""``instructrec-peft rank ADAPTER --history ITEM ... --candidates ITEM ... [--intention ...]``: the
candidates best first, with their scores, printed as ``recommend`` prints its items."""

from __future__ import annotations

import argparse

from .common import add_trust_remote_code
from .recommend import checked_history, print_ranked

__all__ = ["add_parser", "run"]


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("rank", help="order given candidates for a history, with scores")
    parser.add_argument("adapter", help="a tuning run's output directory")
    parser.add_argument("--history", nargs="+", required=True, metavar="ITEM",
                        help="items the user liked, oldest first (ids or titles as typed); '-' reads them from stdin")
    parser.add_argument("--candidates", nargs="+", required=True, metavar="ITEM", help="the items to order")
    parser.add_argument("--intention", help="what the user is looking for now, in their words")
    parser.add_argument("--preference", help="a statement of taste, e.g. 'I like Westerns but not Horror'")
    add_trust_remote_code(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..inference.app import load_recommender

    history = checked_history(args, args.candidates)
    rec, _ = load_recommender(args.adapter, trust_remote_code=args.trust_remote_code)
    ranked = rec.rank(history, args.candidates, intention=args.intention, preference=args.preference)
    # Shown as recommend shows items: their titles (with the id where two items share one).
    print_ranked([(n, rec.label(rec.items([item])[0]), score) for n, (item, score) in enumerate(ranked, start=1)])
    return 0
