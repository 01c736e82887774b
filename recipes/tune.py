"""Instruction-tune a causal LM into a recommender (LoRA, QLoRA or prompt tuning).

    python recipes/tune.py recipes/configs/demo-cpu.yaml
    python recipes/tune.py recipes/configs/demo-cpu.yaml --max_steps 20 --lora_r 8   # overrides
    accelerate launch --config_file recipes/accelerate/cpu.yaml recipes/tune.py recipes/configs/demo-cpu.yaml
    accelerate launch --config_file recipes/accelerate/single-gpu.yaml \
        recipes/tune.py recipes/configs/gpt2-consumer-gpu.yaml
    accelerate launch --config_file recipes/accelerate/multi-gpu.yaml \
        recipes/tune.py recipes/configs/gpt2-multi-gpu.yaml
    python recipes/tune.py --help                                                     # every field

The YAML file gives defaults, command-line flags override them. The adapter lands in
``output_dir`` and loads with ``PeftModel.from_pretrained(base, output_dir)``.
"""

from __future__ import annotations

import sys

from instructrec_peft.models.config import parse_config
from instructrec_peft.training.tuning import run_tuning


def main(argv: list[str] | None = None) -> int:
    try:
        model_args, data_args, train_args = parse_config(argv)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result = run_tuning(model_args, data_args, train_args)
    if result.trainer.is_world_process_zero():
        print(f"adapter written to {train_args.output_dir}")
        if result.eval_metrics:
            shown = {k: round(v, 4) for k, v in result.eval_metrics.items() if "@" in k or k.endswith("mrr")}
            print(f"validation: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
