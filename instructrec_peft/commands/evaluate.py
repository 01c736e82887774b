"""``instructrec-peft evaluate`` (and ``recipes/evaluate.py``): a tuned adapter, or a base model
zero-shot, on the test split.

    instructrec-peft evaluate --adapter outputs/demo-cpu --users 100
    instructrec-peft evaluate --model demo --quantization 4bit --users 100          # zero-shot
    instructrec-peft evaluate --model gpt2 --config recipes/configs/gpt2-consumer-gpu.yaml
    instructrec-peft evaluate --adapter outputs/demo-cpu --users 50 --by template     # which instructions help

Prints a table (popularity on the same candidates included) and writes JSON with --output.
Protocols: loo-random-10 (``docs/protocols.md``). With ``--by`` it also scores the same users and candidates
with each template in its own task form (``breakdown.py``) and reports metrics per template or
pooled per preference / intention / task level: ranking metrics, Yes/No accuracy, precision,
recall, F1 and AUC for pointwise templates, pair accuracy for pairwise ones.

An adapter tuned with item tokens scores every item in one forward pass: its row is ranked on the
same candidates, and a second table ranks the whole catalogue (``full``) for it and popularity.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..config.model import QUANTIZATIONS
from ..errors import ArgumentError
from ..files import write_text_atomic

# Kept here, not imported, so that building the command's parser does not import torch; a test
# checks they equal protocols.PROTOCOLS and breakdown.GROUPS.
PROTOCOL_NAMES = ("loo-random-10", "loo-random-20")
GROUP_NAMES = ("template", "preference", "intention", "task")
ZERO_SHOT_TEMPLATES = ["p1-i0-matching-1", "p1-i0-reranking-1", "p1-i0-pointwise-1", "p1-i0-pairwise-1"]
BREAKDOWN_COLUMNS = ("hr@1", "hr@3", "ndcg@3", "ndcg@10", "mrr", "accuracy", "precision", "recall", "f1", "auc",
                     "pairwise accuracy")


__all__ = ["add_parser", "run"]


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "evaluate", help="rank the test users' candidates with an adapter or a base model, beside popularity")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--adapter", help="a tuning run's output directory")
    who.add_argument("--model", help="base model (Hub id, directory, or 'demo') for zero-shot evaluation")
    parser.add_argument("--quantization", choices=QUANTIZATIONS, default="none", help="with --model")
    parser.add_argument("--config", help="YAML of the data fields (default: the adapter's, else ML-100K)")
    parser.add_argument("--protocol", choices=PROTOCOL_NAMES, default="loo-random-10")
    parser.add_argument("--users", type=int, default=100, help="first N test users (0: all; default 100)")
    parser.add_argument("--seed", type=int, default=42, help="candidate sampling seed")
    parser.add_argument("--output", help="write the metrics as JSON here")
    parser.add_argument("--by", choices=GROUP_NAMES, help="also report metrics per template or per aspect level")
    parser.add_argument("--trust_remote_code", action="store_true",
                        help="run Python code shipped with the base model (off unless given here)")
    parser.add_argument("--templates", nargs="+",
                        help="templates for --by (default: the adapter's manifest; zero-shot: one per task form)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the tables (and write ``--output``); 0 on success."""
    from ..config import DataArguments, ModelArguments, parse_config, saved_configs
    from ..evaluation.baselines import Popularity, full_ranking_ranks
    from ..evaluation.breakdown import evaluate_templates, group_results
    from ..evaluation.metrics.formulas import ranking_metrics
    from ..evaluation.protocols import protocol_rows, run_item_lm, run_lm, run_popularity
    from ..evaluation.ranking import format_table
    from ..instructions.manifest import Manifest
    from ..instructions.tokenization import PromptEncoder
    from ..models.loading import item_tokens_of, load_adapter, load_base_model, load_tokenizer

    if args.adapter:
        model_args, data_args = saved_configs(args.adapter, trust_remote_code=args.trust_remote_code)
    else:
        model_args = ModelArguments(model_name_or_path=args.model, quantization=args.quantization,
                                    trust_remote_code=args.trust_remote_code)
        data_args = DataArguments()
    if args.config:
        _, data_args, _ = parse_config([args.config, "--model_name_or_path", model_args.model_name_or_path])
    tokens = item_tokens_of(args.adapter) if args.adapter else None
    if tokens is not None and args.by:
        raise ArgumentError("--by scores each template in its own task form as text; an item-token adapter "
                            "answers with item tokens (matching) only")
    # An item-token adapter's tokenizer is its own (it holds the item tokens).
    tokenizer = load_tokenizer(model_args) if tokens is None else load_tokenizer(
        ModelArguments(model_name_or_path=args.adapter))
    manifest = Manifest.load(args.adapter) if args.adapter else None
    encoder = PromptEncoder.for_settings(tokenizer, manifest or data_args)
    data = protocol_rows(args.protocol, data_args, encoder, seed=args.seed, users=args.users)
    model = load_adapter(args.adapter, model_args=model_args) if args.adapter else load_base_model(model_args)
    name = f"adapter {args.adapter}" if args.adapter else f"{args.model} zero-shot"
    results = {"popularity": run_popularity(data)}
    full = None
    if tokens is not None:
        ranked = run_item_lm(model, encoder, data_args, tokens, data, seed=args.seed)
        results[name] = ranking_metrics(ranked.loo)
        popularity = Popularity.fit(data.split, list(data.log.catalog.texts))
        full = {"popularity": ranking_metrics(full_ranking_ranks(popularity, data.split, users=ranked.users)),
                name: ranking_metrics(ranked.full)}
    else:
        results[name] = run_lm(model, encoder, data).metrics
    print(f"{args.protocol}, {len(data.rows)} test users, template {data_args.eval_template}")
    print(format_table(results, {k: len(data.rows) for k in results}))
    if full is not None:
        print(f"\nfull ranking (every item the user has not touched), {len(ranked.users)} test users")
        print(format_table(full, {k: len(ranked.users) for k in full}))
    breakdown = None
    if args.by:
        names = args.templates or ([t["name"] for t in manifest.templates] if manifest else ZERO_SHOT_TEMPLATES)
        evaluated = evaluate_templates(model, encoder, data.split, data.log.catalog, data.rows, names,
                                       vocabulary=data_args.vocabulary, seed=args.seed,
                                       max_prompt_tokens=data_args.max_prompt_tokens,
                                       max_history_items=data_args.max_history_items)
        breakdown = group_results(evaluated, args.by)
        columns = [c for c in BREAKDOWN_COLUMNS if any(c in m for m in breakdown.values())]
        skipped = {n: r.skipped for n, r in evaluated.items() if r.skipped}
        note = f"; rows skipped (no intention or preference to state): {skipped}" if skipped else ""
        print(f"\nby {args.by}: the same users and candidates, each template in its own task form{note}")
        users = {n: r.users for n, r in evaluated.items()} if args.by == "template" else None
        print(format_table(breakdown, users, columns=columns))
    if args.output:
        write_text_atomic(Path(args.output), json.dumps({"protocol": args.protocol, "users": len(data.rows),
                                                 "results": results, "full": full, "by": args.by,
                                                 "breakdown": breakdown},
                                                indent=2) + "\n")
    return 0

