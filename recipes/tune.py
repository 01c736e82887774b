"""Instruction-tune a causal LM into a recommender (LoRA, QLoRA or prompt tuning).

    python recipes/tune.py recipes/configs/demo-cpu.yaml
    python recipes/tune.py recipes/configs/demo-cpu.yaml --max_steps 20 --lora_r 8   # overrides
    accelerate launch --config_file recipes/accelerate/cpu.yaml recipes/tune.py recipes/configs/demo-cpu.yaml
    accelerate launch --config_file recipes/accelerate/single-gpu.yaml \
        recipes/tune.py recipes/configs/gpt2-consumer-gpu.yaml
    accelerate launch --config_file recipes/accelerate/multi-gpu.yaml \
        recipes/tune.py recipes/configs/gpt2-multi-gpu.yaml
    python recipes/tune.py --help        # the packaged configs; --help-all lists every field

The YAML file gives defaults, command-line flags override them. The adapter lands in
``output_dir`` and loads with ``PeftModel.from_pretrained(base, output_dir)``.
"""

from __future__ import annotations

import sys

from instructrec_peft.cli import main as command


def main(argv: list[str] | None = None) -> int:
    return command(["tune", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
