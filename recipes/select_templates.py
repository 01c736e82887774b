"""Choose a template mix by K-fold cross-validation over users, and write it as a tuning config.

    python recipes/select_templates.py recipes/configs/demo-cpu.yaml --folds 3 --max_steps 10 --eval_users 20 \
        --mixes matching=1 matching=1,reranking=1 matching=2,pointwise=1 --write outputs/selected.yaml
    python recipes/tune.py outputs/selected.yaml

Every run starts from the config (and any ``--field value`` after it), with the mix's
``task_mix``; runs are short and nothing is saved. Prints mean and spread of the metric per mix.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from instructrec_peft.config import parse_config
from instructrec_peft.files import write_text_atomic
from instructrec_peft.training.selection import cross_validate_mixes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", help="tuning config YAML every run starts from")
    parser.add_argument("--mixes", nargs="+",
                        default=["matching=1", "matching=1,reranking=1", "matching=2,pointwise=1"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--metric", default="ndcg@10")
    parser.add_argument("--write", help="write the config with the winning task_mix here (YAML)")
    args, overrides = parser.parse_known_args(argv)
    try:
        scores = cross_validate_mixes(parse_config([args.config, *overrides]), args.mixes, folds=args.folds,
                                      metric=args.metric)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"| task_mix | {args.metric} mean | std | per fold |\n|---|---|---|---|")
    for score in scores:
        print(f"| {score.mix} | {score.mean:.4f} | {score.std:.4f} | {', '.join(f'{s:.4f}' for s in score.scores)} |")
    best = max(scores, key=lambda s: s.mean)
    print(f"best: task_mix={best.mix}")
    if args.write:
        config = yaml.safe_load(Path(args.config).read_text()) or {}
        config["task_mix"] = best.mix
        Path(args.write).parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(Path(args.write), yaml.safe_dump(config, sort_keys=False))
        print(f"config written to {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
