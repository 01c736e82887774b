"""The demo on the embedded default: ML-100K instructions for SmolLM2-135M-Instruct.

Run by ``make demo`` after ``python -m instructrec_peft.assets fetch``. For now it builds and
prints instruction examples of every task form; tuning and evaluation join it as they land.

    python recipes/demo.py [--examples 6] [--seed 42]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from transformers import AutoTokenizer

from instructrec_peft import InteractionLog, leave_one_out
from instructrec_peft.assets import fetch
from instructrec_peft.examples import ExampleConfig, build_examples
from instructrec_peft.tokenization import PromptEncoder

ALL_TASKS = {"pointwise": 1.0, "pairwise": 1.0, "matching": 1.0, "reranking": 1.0}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=6, help="how many examples to print")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--max-prompt-tokens", type=int, default=384, help="prompt budget, chat template included")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    assets = fetch()
    start = time.perf_counter()
    log = InteractionLog.from_recbole(assets.data_dir)
    print(f"ML-100K: {log.report.summary()}")
    split = leave_one_out(log)
    print(f"split: {len(split.evaluated)} users evaluated, {len(split.short_users)} short users kept in train")

    encoder = PromptEncoder(AutoTokenizer.from_pretrained(assets.model_dir))
    config = ExampleConfig(tasks=ALL_TASKS, examples_per_user=2, seed=args.seed)
    train = build_examples(split, log.catalog, "train", config, count_tokens=encoder.count_tokens,
                           max_prompt_tokens=args.max_prompt_tokens)
    test = build_examples(split, log.catalog, "test", config, count_tokens=encoder.count_tokens,
                          max_prompt_tokens=args.max_prompt_tokens)
    print(f"built {len(train)} train and {len(test)} test examples in {time.perf_counter() - start:.1f}s; "
          f"task forms {dict(Counter(train['task']))}; {len(set(train['template']))} templates used")
    shown = train.shuffle(seed=args.seed).select(range(min(args.examples, len(train))))
    for row in shown:
        print(f"\n--- {row['template']} ({row['preference']}, {row['intention']}, {row['task']}), user {row['user']}")
        print(row["prompt"])
        print(f">>> {row['completion']}")
    tokens = encoder.encode_batch(train["prompt"][:200], train["completion"][:200])["input_ids"]
    print(f"\ntokenised length of the first 200 train examples: mean {sum(map(len, tokens)) / len(tokens):.0f}, "
          f"max {max(map(len, tokens))} tokens")


if __name__ == "__main__":
    main()
