"""The instruction-following report: does a stated request steer an item-token adapter, and does it
beat a keyword filter? Writes reports/following.md and reports/following.json.

    python recipes/bench_following.py --adapter outputs/items-cpu              # every section, all test users
    python recipes/bench_following.py --adapter outputs/items-cpu --sections control   # one section again
    python recipes/bench_following.py --sections                               # only re-render from the JSON
    python recipes/bench_following.py --adapter outputs/items-cpu --smoke      # 12 users (checks the script)

The ``cold`` section tunes its own adapter (``--cold_adapter``, with ``--cold_config``) the first time.

The sections and what each measures: ``benchmarks/following_report.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ sits beside the package, outside the wheel

from benchmarks.following_report import SECTIONS, run_following  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", default=str(ROOT / "outputs" / "items-cpu"),
                        help="an item-token tuning run (make demo writes outputs/items-cpu)")
    parser.add_argument("--sections", nargs="*", default=list(SECTIONS), choices=SECTIONS,
                        help="sections to (re)run; none: only re-render the report")
    parser.add_argument("--report", default=str(ROOT / "reports" / "following.md"))
    parser.add_argument("--cold_config", default=str(ROOT / "recipes" / "configs" / "items-cpu.yaml"),
                        help="the config the cold section tunes with, on the log without its cold items")
    parser.add_argument("--cold_adapter", default=None,
                        help="where the cold section's adapter goes (default outputs/items-cold, or "
                             "outputs/items-cold-smoke with --smoke); reused when it holds one")
    parser.add_argument("--smoke", action="store_true", help="12 users, a short SASRec fit and a 2-step cold adapter; "
                        "report under outputs/")
    args = parser.parse_args(argv)
    report = Path(args.report) if not args.smoke else ROOT / "outputs" / "following-smoke.md"
    cold = Path(args.cold_adapter or ROOT / "outputs" / ("items-cold-smoke" if args.smoke else "items-cold"))
    print(run_following(Path(args.adapter), args.sections, report, smoke=args.smoke, cold_config=[args.cold_config],
                        cold_adapter=cold))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
