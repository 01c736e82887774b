"""Evaluate a tuned adapter, or a base model zero-shot, on the test split.

    python recipes/evaluate.py --adapter outputs/demo-cpu --users 100
    python recipes/evaluate.py --model demo --quantization 4bit --users 100          # zero-shot
    python recipes/evaluate.py --model gpt2 --config recipes/configs/gpt2-consumer-gpu.yaml

Prints a table (popularity on the same candidates included) and writes JSON with --output.
Protocols: loo-random-10 (DESIGN.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from instructrec_peft.config import CONFIG_NAME, DataArguments, ModelArguments, parse_config
from instructrec_peft.evaluation import format_table
from instructrec_peft.manifest import Manifest
from instructrec_peft.modeling import load_adapter, load_base_model, load_tokenizer
from instructrec_peft.protocols import PROTOCOLS, protocol_rows, run_lm, run_popularity
from instructrec_peft.tokenization import PromptEncoder


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--adapter", help="directory written by recipes/tune.py")
    who.add_argument("--model", help="base model (Hub id, directory, or 'demo') for zero-shot evaluation")
    parser.add_argument("--quantization", choices=["none", "8bit", "4bit"], default="none", help="with --model")
    parser.add_argument("--config", help="YAML of the data fields (default: the adapter's, else ML-100K)")
    parser.add_argument("--protocol", choices=sorted(PROTOCOLS), default="loo-random-10")
    parser.add_argument("--users", type=int, default=100, help="first N test users (0: all)")
    parser.add_argument("--seed", type=int, default=42, help="candidate sampling seed")
    parser.add_argument("--output", help="write the metrics as JSON here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if args.adapter:
        saved = json.loads((Path(args.adapter) / CONFIG_NAME).read_text())
        model_args = ModelArguments(**saved["model"])
        data_args = DataArguments(**{k: v for k, v in saved["data"].items() if k != "task_mix_weights"})
    else:
        model_args = ModelArguments(model_name_or_path=args.model, quantization=args.quantization)
        data_args = DataArguments()
    if args.config:
        _, data_args, _ = parse_config([args.config, "--model_name_or_path", model_args.model_name_or_path])
    tokenizer = load_tokenizer(model_args)
    manifest = Manifest.load(args.adapter) if args.adapter else None
    encoder = PromptEncoder(tokenizer, chat_template=manifest.chat_template if manifest else None,
                            system_prompt=manifest.system_prompt if manifest else data_args.system_prompt)
    data = protocol_rows(args.protocol, data_args, encoder, seed=args.seed, users=args.users)
    model = load_adapter(args.adapter, model_args=model_args) if args.adapter else load_base_model(model_args)
    name = f"adapter {args.adapter}" if args.adapter else f"{args.model} zero-shot"
    results = {"popularity": run_popularity(data), name: run_lm(model, encoder, data).metrics}
    print(f"{args.protocol}, {len(data.rows)} test users, template {data_args.eval_template}")
    print(format_table(results, {k: len(data.rows) for k in results}))
    if args.output:
        Path(args.output).write_text(json.dumps({"protocol": args.protocol, "users": len(data.rows),
                                                 "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
