"""``instructrec-peft app ADAPTER``: a Gradio app to try an adapter in the browser (the app extra)."""

from __future__ import annotations

import argparse

from .common import add_trust_remote_code, positive

__all__ = ["add_parser", "run"]


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("app", help="a Gradio app to try an adapter in the browser (the app extra)")
    parser.add_argument("adapter", help="a tuning run's output directory")
    parser.add_argument("--feedback", help="the feedback log the app appends to; default <adapter>/feedback.jsonl")
    parser.add_argument("--port", type=int, default=7860, help="the local port (default 7860)")
    parser.add_argument("-k", type=positive, default=10, help="how many items (default 10)")
    parser.add_argument("--no-explain", action="store_true", help="no reasons (faster)")
    add_trust_remote_code(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..inference.app import build_app, load_recommender

    rec, items = load_recommender(args.adapter, args.feedback, trust_remote_code=args.trust_remote_code)
    build_app(rec, items, k=args.k, explain=not args.no_explain).launch(server_port=args.port)
    return 0
