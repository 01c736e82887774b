"""Stage 9, commands: one module per ``instructrec-peft`` command, each with ``add_parser`` (its
arguments, on the CLI's subparsers) and ``run`` (the parsed arguments to an exit status).
``instructrec_peft.cli`` registers them in ``COMMANDS``; the recipes call the same commands, so
an error reads the same everywhere.

May import: every stage.
"""
