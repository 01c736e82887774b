"""Time and peak memory of loading + splitting published layouts at 10^6 and 10^7 interactions: reports/data_scale.md.

    python recipes/bench_data_scale.py                                # both layouts, 10^6 and 10^7 (about 10 minutes)
    python recipes/bench_data_scale.py --sizes 100000 --layouts ml-32m   # a quick look
    python recipes/bench_data_scale.py --sections                     # only rebuild the Markdown from the JSON

What is written and measured, and how: ``benchmarks/data_scale.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ sits beside the package, outside the wheel

from benchmarks.data_scale import LAYOUTS, render, run_data_scale  # noqa: E402
from benchmarks.report_store import SectionStore  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--layouts", nargs="+", choices=sorted(LAYOUTS), default=sorted(LAYOUTS))
    parser.add_argument("--sections", action="store_true", help="only rebuild the Markdown from the JSON")
    parser.add_argument("--workdir", help="where the synthetic files go (default: the system's temp folder)")
    parser.add_argument("--report", default=str(ROOT / "reports" / "data_scale.md"))
    args = parser.parse_args(argv)
    if args.sections:
        SectionStore(Path(args.report), render).rerender()
        return 0
    run_data_scale(Path(args.report), args.sizes, args.layouts, args.workdir)
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
