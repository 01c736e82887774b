"""Which instructions carry the signal, transfer across domains, cold start: reports/instructions.md.

    python recipes/instruction_report.py                          # every section (~25 min on 2 cores)
    python recipes/instruction_report.py --sections transfer      # one section; the others are kept
    python recipes/instruction_report.py --smoke                  # tiny budgets, a few minutes
    python recipes/instruction_report.py --sections               # only rebuild the Markdown from the JSON

The sections and what each measures: ``benchmarks/instruction_report.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ sits beside the package, outside the wheel

from benchmarks.instruction_report import SECTIONS, ReportSettings, run_report  # noqa: E402


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", nargs="*", choices=SECTIONS, default=list(SECTIONS),
                        help="sections to run; none (--sections) only rebuilds the Markdown from the JSON")
    parser.add_argument("--adapter", default=str(ROOT / "outputs" / "demo-cpu"),
                        help="the tuned text-only adapter of the aspects and cold-start sections (make report "
                             "writes it: recipes/tune.py recipes/configs/demo-cpu.yaml)")
    parser.add_argument("--config", default=str(ROOT / "recipes" / "configs" / "demo-cpu.yaml"),
                        help="the tuning config of the transfer adapters")
    parser.add_argument("--aspect-users", type=int, default=20)
    parser.add_argument("--aspect-quantization", choices=["none", "8bit", "4bit"], default="none",
                        help="precision the aspects are scored in (4-bit matmuls are slow on CPU)")
    parser.add_argument("--transfer-users", type=int, default=60)
    parser.add_argument("--transfer-steps", type=int, default=30)
    parser.add_argument("--transfer-dir", default=str(ROOT / "outputs" / "transfer"))
    parser.add_argument("--retrain", action="store_true", help="tune the transfer adapters even if they exist")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--smoke", action="store_true", help="tiny budgets to check every step")
    parser.add_argument("--report", default=str(ROOT / "reports" / "instructions.md"))
    return parser


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    if args.smoke:
        # Smoke budgets never overwrite the real report or the real transfer adapters.
        args.aspect_users, args.transfer_users, args.transfer_steps = 3, 5, 2
        args.transfer_dir = str(Path(args.transfer_dir).with_name("transfer-smoke"))
        args.report = str(ROOT / "outputs" / "instructions-smoke.md")
    settings = ReportSettings(**{k: v for k, v in vars(args).items() if k not in ("sections", "report")})
    print(run_report(args.sections, Path(args.report), settings))


if __name__ == "__main__":
    main()
