"""``instructrec-peft tune CONFIG.yaml [--field value ...]`` (or ``--config CONFIG.yaml``, as trl
takes it): parse the config and overrides, tune, say where the adapter went.

argparse cannot read this command line: an override's value (``--max_steps 2``) would be taken
for the optional positional config. ``add_parser`` lists the command in the help; ``argv`` turns
the raw arguments into what :func:`~instructrec_peft.config.parser.parse_config` reads.
"""

from __future__ import annotations

import argparse
from typing import Sequence

from ..errors import InstructRecError

__all__ = ["add_parser", "argv", "run", "RAW"]

RAW = True  # the CLI hands this command its raw arguments


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("tune", add_help=False, help="instruction-tune an adapter from a YAML config "
                                 "(CONFIG.yaml or --config CONFIG.yaml, then any --field value; --help lists them)")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def argv(args: Sequence[str]) -> list[str]:
    """The config first (given as the first argument or as ``--config FILE``), then the overrides."""
    args = list(args)
    if "--config" in args:
        at = args.index("--config")
        if at + 1 >= len(args):
            raise InstructRecError("tune: --config needs a file")
        config = args[at + 1]
        del args[at:at + 2]
        if args and not args[0].startswith("-"):
            raise InstructRecError(f"tune: give the config once, as CONFIG or --config (got {args[0]} and {config})")
        return [config, *args]
    return args


def run(args: Sequence[str]) -> int:
    from ..config import parse_config
    from ..training.tuning import run_tuning

    model_args, data_args, train_args = parse_config(argv(args))
    result = run_tuning(model_args, data_args, train_args)
    if result.trainer.is_world_process_zero():
        print(f"adapter written to {train_args.output_dir}")
        if result.eval_metrics:
            shown = {k: round(v, 4) for k, v in result.eval_metrics.items() if "@" in k or k.endswith("mrr")}
            print(f"validation: {shown}")
    return 0
