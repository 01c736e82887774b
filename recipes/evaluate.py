"""Evaluate a tuned adapter, or a base model zero-shot, on the test split: ``instructrec-peft evaluate``.

    python recipes/evaluate.py --adapter outputs/demo-cpu --users 100
    python recipes/evaluate.py --model demo --quantization 4bit --users 100          # zero-shot
    python recipes/evaluate.py --model gpt2 --config recipes/configs/gpt2-consumer-gpu.yaml
    python recipes/evaluate.py --adapter outputs/demo-cpu --users 50 --by template     # which instructions help
    python recipes/evaluate.py --adapter outputs/demo-cpu --by intention --templates p1-i0-matching-1 p1-i2-matching-1

What it prints and writes: ``instructrec_peft/commands/evaluate.py``.
"""

from __future__ import annotations

import sys

from instructrec_peft.cli import main as command


def main(argv: list[str] | None = None) -> int:
    return command(["evaluate", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
