"""bf16 against fp32 on the item-token demo and the text-only LoRA (loss curves, time, metrics): reports/precision.md.

    python recipes/bench_precision.py                    # both, about an hour on 2 CPU cores
    python recipes/bench_precision.py --sections items   # one configuration (the other keeps its results)
    python recipes/bench_precision.py --smoke            # 2 steps, 8 users (checks the script)
    python recipes/bench_precision.py --render           # only rebuild the Markdown from the JSON

What is tuned and measured, and how: ``benchmarks/precision_bench.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ sits beside the package, outside the wheel

from benchmarks.precision_bench import CONFIGS, render, run_precision  # noqa: E402
from benchmarks.report_store import SectionStore  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--smoke", action="store_true", help="2 steps and 8 users per run, report under outputs/")
    parser.add_argument("--render", action="store_true", help="only rebuild the Markdown from the JSON")
    parser.add_argument("--report", default=str(ROOT / "reports" / "precision.md"))
    args = parser.parse_args(argv)
    report = Path(args.report) if not args.smoke else ROOT / "outputs" / "precision-smoke.md"
    if args.render:
        SectionStore(report, render).rerender()
        return 0
    print(run_precision(ROOT, report, args.sections, smoke=args.smoke))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
