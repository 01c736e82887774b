"""``instructrec-peft tune CONFIG [--field value ...]`` (or ``--config CONFIG``, as trl takes it):
parse the config (a packaged config's name, or a YAML file) and overrides, tune, say where the
adapter went. ``--help`` is short (the packaged configs, examples); ``--help-all`` lists every field.

argparse cannot read this command line: an override's value (``--max_steps 2``) would be taken
for the optional positional config. ``add_parser`` lists the command in the help; ``argv`` turns
the raw arguments into what :func:`~instructrec_peft.config.parser.parse_config` reads.
"""

from __future__ import annotations

import argparse
from typing import Sequence

from ..errors import InstructRecError

__all__ = ["add_parser", "argv", "run", "short_help", "RAW"]

RAW = True  # the CLI hands this command its raw arguments
USAGE = "instructrec-peft tune CONFIG [--field value ...]"


def add_parser(commands) -> argparse.ArgumentParser:
    parser = commands.add_parser("tune", add_help=False, usage=USAGE,
                                 help="instruction-tune an adapter: CONFIG is a packaged config's name (items-cpu, "
                                      "...) or a YAML file, then any --field value (tune --help)")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def short_help() -> str:
    from ..config.named_configs import describe, named_configs

    named = named_configs()
    width = max(map(len, named))
    return "\n".join([
        f"usage: {USAGE}", "",
        "Instruction-tune an adapter. CONFIG is the name of a config that ships with the package, or a YAML file;",
        "each --field value overrides that field (--help-all lists every field, its default and its choices).", "",
        "packaged configs:", *[f"  {name:<{width}}  {describe(path)}" for name, path in named.items()], "",
        "examples:", "  instructrec-peft tune items-cpu --max_steps 3",
        "  instructrec-peft tune my-run.yaml --learning_rate 1e-4 --output_dir outputs/my-run"])


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
    if "--help-all" in args:
        args = ["--help" if a == "--help-all" else a for a in args]  # the parser's own help: every field
    elif not args or "-h" in args or "--help" in args:
        print(short_help())
        return 0
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
