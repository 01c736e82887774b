"""Share a tuned adapter on the Hugging Face Hub (or any Hub-compatible server via HF_ENDPOINT).

    python recipes/push.py outputs/demo-cpu me/smollm2-movielens-recommender
    python recipes/push.py outputs/run me/name --private --revision v1 --commit-message "50 more steps"
    python recipes/push.py outputs/run me/name --base-model-id HuggingFaceTB/SmolLM2-135M-Instruct --merge

Pushes the adapter, tokenizer, template manifest, configs, metrics and a generated model card;
never checkpoints, pickles or local paths. The token comes from HF_TOKEN or `huggingface-cli login`
and is never printed or written.
"""

from __future__ import annotations

import argparse
import sys

from instructrec_peft.hub.push import push_adapter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_dir", help="the output directory of a tuning run")
    parser.add_argument("repo_id", help="namespace/name on the Hub")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument("--revision", help="branch to push to (created if missing); default main")
    parser.add_argument("--commit-message")
    parser.add_argument("--base-model-id", help="Hub id of the base model when it was loaded from a local folder")
    parser.add_argument("--license", help="license for the card metadata, e.g. apache-2.0")
    parser.add_argument("--dataset-id", help="Hub id of the training dataset, when it has one")
    parser.add_argument("--merge", action="store_true",
                        help="also push the LoRA merged into a full-precision copy of the base, to its own repo")
    parser.add_argument("--merged-repo-id", help="repository of the merged model; default <repo_id>-merged")
    args = parser.parse_args(argv)
    try:
        info = push_adapter(args.output_dir, args.repo_id, base_model=args.base_model_id, private=args.private or None,
                            revision=args.revision, commit_message=args.commit_message, license=args.license,
                            dataset_id=args.dataset_id, merge=args.merge,
                            merged_repo_id=args.merged_repo_id)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"pushed to {args.repo_id}: {info.commit_url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
