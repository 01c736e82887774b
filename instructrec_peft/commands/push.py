"""``instructrec-peft push ADAPTER namespace/name``: share an adapter on the Hugging Face Hub (or any
Hub-compatible server through HF_ENDPOINT), with its generated card; the token comes from HF_TOKEN
or ``huggingface-cli login`` and is never printed or written."""

from __future__ import annotations

import argparse

from .common import add_trust_remote_code

__all__ = ["add_parser", "run"]


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("push", help="share an adapter on the Hugging Face Hub")
    parser.add_argument("output_dir", help="the output directory of a tuning run")
    parser.add_argument("repo_id", help="namespace/name on the Hub")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument("--revision", help="branch to push to (created if missing); default main")
    parser.add_argument("--commit-message", help="the commit's message")
    parser.add_argument("--base-model-id", help="Hub id of the base model when it was loaded from a local folder")
    parser.add_argument("--license", help="license for the card metadata, e.g. apache-2.0")
    parser.add_argument("--dataset-id", help="Hub id of the training dataset, when it has one")
    parser.add_argument("--merge", action="store_true",
                        help="also push the LoRA merged into a full-precision copy of the base, to its own repo")
    parser.add_argument("--merged-repo-id", help="repository of the merged model; default <repo_id>-merged")
    parser.add_argument("--with-app", nargs="?", const="", metavar="SPACE_ID",
                        help="also create a Gradio Space that demos the adapter; default <repo_id>-demo")
    add_trust_remote_code(parser, "with --merge: ")
    return parser


def run(args: argparse.Namespace) -> int:
    from ..hub.push import push_adapter

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
