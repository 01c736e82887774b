"""Share a tuned adapter on the Hugging Face Hub (or any Hub-compatible server via HF_ENDPOINT).

    python recipes/push.py outputs/demo-cpu me/smollm2-movielens-recommender
    python recipes/push.py outputs/run me/name --private --revision v1 --commit-message "50 more steps"
    python recipes/push.py outputs/run me/name --base-model-id HuggingFaceTB/SmolLM2-135M-Instruct --merge

Pushes the adapter, tokenizer, template manifest, configs, metrics and a generated model card;
never checkpoints, pickles or local paths. The token comes from HF_TOKEN or `huggingface-cli login`
and is never printed or written.
"""

from __future__ import annotations

import sys

from instructrec_peft.cli import main as command


def main(argv: list[str] | None = None) -> int:
    return command(["push", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
