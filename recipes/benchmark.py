"""The benchmark report: LM recommenders against real baselines on ML-100K, all 943 test users.

    python recipes/benchmark.py                          # every section; writes reports/benchmark.md, .json, PNGs
    python recipes/benchmark.py --sections items-text    # run one section again; the others are kept
    python recipes/benchmark.py --sections               # no section: re-render the report from the JSON
    python recipes/benchmark.py --smoke                  # every section with tiny budgets (checks the script)

The sections and what each measures: ``benchmarks/benchmark.py``. About 2 hours
on 2 CPU cores (133 minutes, the sections run one by one: each of those refits SASRec for
rerank-top20).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ sits beside the package, outside the wheel

from benchmarks.benchmark import SECTIONS, BenchPaths, run_benchmark, scale_child  # noqa: E402

PATHS = BenchPaths(ROOT, Path(__file__).resolve())


def make_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="*", default=list(SECTIONS), choices=SECTIONS,
                        help="sections to (re)run; none: only re-render the report")
    parser.add_argument("--report", default=str(ROOT / "reports" / "benchmark.md"))
    parser.add_argument("--smoke", action="store_true",
                        help="tiny budgets and 8 users: checks the script, not the models")
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)  # the scale probe, in its own process
    return parser


def main(argv=None):
    args = make_parser().parse_args(argv)
    if args.scale_child:
        return scale_child(args.scale_child, PATHS)
    report = Path(args.report)
    if args.smoke and report == Path(make_parser().get_default("report")):
        report = ROOT / "outputs" / "benchmark-smoke.md"  # a smoke run never overwrites the real report
    print(run_benchmark(args.sections, report, PATHS, smoke=args.smoke))


if __name__ == "__main__":
    sys.exit(main())
