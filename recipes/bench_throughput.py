"""Training throughput against TRL's SFTTrainer and the machine's limit; scale curves: reports/throughput.md.

    python recipes/bench_throughput.py                     # CPU, about 30 minutes on 2 cores
    python recipes/bench_throughput.py --smoke             # tiny budgets, a few minutes (checks the script)
    python recipes/bench_throughput.py --sections          # only rebuild the Markdown from the JSON
    bash recipes/bench_gpu.sh                              # the same comparison on a CUDA machine

What each section measures, and how: ``benchmarks/throughput_bench.py``; the report is
rendered by ``throughput_report.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ sits beside the package, outside the wheel

from benchmarks.throughput_bench import SECTIONS, SYSTEMS, ThroughputSettings, run_child_job  # noqa: E402
from benchmarks.throughput_report import run_throughput  # noqa: E402


def make_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=12, help="optimizer steps per training run")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--bf16", action="store_true",
                        help="train in bfloat16 autocast (GPU); the peak is bf16 matmul")
    parser.add_argument("--eval-users", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--candidates", type=int, nargs="+", default=[10, 20, 100])
    parser.add_argument("--sections", nargs="*", default=list(SECTIONS), choices=SECTIONS,
                        help="the others keep their last results; none (--sections) only rebuilds the Markdown")
    parser.add_argument("--systems", nargs="+", choices=list(SYSTEMS),
                        help="train only these (the other runs are kept from the last report)")
    parser.add_argument("--report", default=str(ROOT / "reports" / "throughput.md"))
    parser.add_argument("--smoke", action="store_true", help="tiny budgets (checks the script, not the machine)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: one measured run in this process
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    args = make_parser().parse_args(argv)
    if args.smoke:
        args.steps, args.batch_size, args.eval_users = 2, 2, 2
        args.sizes, args.candidates = [1_000, 2_000], [4, 8]
        args.report = str(ROOT / "outputs" / "throughput-smoke.md")
    settings = ThroughputSettings(
        demo_config=ROOT / "recipes" / "configs" / "demo-cpu.yaml", script=Path(__file__).resolve(),
        items_config=ROOT / "recipes" / "configs" / "items-cpu.yaml",
        **{k: v for k, v in vars(args).items() if k not in ("sections", "report", "child", "out")})
    if args.child:
        return run_child_job(args.child, settings, Path(args.out))
    print(run_throughput(args.sections, Path(args.report), settings))


if __name__ == "__main__":
    main()
