"""The MovieLens-1M benchmark: popularity, BPR-MF, SASRec and the item-token LM, every test user.

    instructrec-peft fetch --dataset ml-1m                 # once: the data (GroupLens' terms apply)
    python recipes/bench_ml1m.py                           # every section; writes reports/ml1m.md and .json
    python recipes/bench_ml1m.py --sections baselines      # one section again; the others are kept
    python recipes/bench_ml1m.py --sections                # no section: re-render the report from the JSON
    python recipes/bench_ml1m.py --smoke                   # 8 users, tiny budgets: checks the script

What each section measures: ``benchmarks/ml1m.py``. The item-token LM's tuning
(``recipes/configs/items-ml1m.yaml``) saves checkpoints; a stopped run resumes with
``python recipes/tune.py recipes/configs/items-ml1m.yaml --resume_from_checkpoint latest``
before ``--sections items-lm`` is run again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ sits beside the package, outside the wheel

from benchmarks.benchmark import BenchPaths  # noqa: E402
from benchmarks.ml1m import SECTIONS, run_ml1m  # noqa: E402


def make_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="*", default=list(SECTIONS), choices=SECTIONS,
                        help="sections to (re)run; none: only re-render the report")
    parser.add_argument("--report", default=str(ROOT / "reports" / "ml1m.md"))
    parser.add_argument("--smoke", action="store_true", help="8 users and tiny budgets: checks the script")
    return parser


def main(argv=None):
    args = make_parser().parse_args(argv)
    report = Path(args.report)
    if args.smoke and report == Path(make_parser().get_default("report")):
        report = ROOT / "outputs" / "ml1m-smoke.md"  # a smoke run never overwrites the real report
    print(run_ml1m(args.sections, report, BenchPaths(ROOT, Path(__file__).resolve()), smoke=args.smoke))


if __name__ == "__main__":
    sys.exit(main())
