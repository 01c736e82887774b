"""Every error the project raises on purpose derives from :class:`InstructRecError`, so a caller
can catch ours apart from Python's and the libraries'. Each also derives from the built-in type
it refines (``ValueError``, ``FileNotFoundError``, ...), so ``except ValueError`` keeps working.

>>> issubclass(ConfigError, InstructRecError) and issubclass(ConfigError, ValueError)
True
"""

from __future__ import annotations

__all__ = ["InstructRecError", "ConfigError", "ArgumentError", "DataError", "TemplateError", "FormatError",
           "ScoringError", "AssetError", "MissingFileError", "MissingDependencyError", "WriteError"]


class InstructRecError(Exception):
    """Base class of every error raised deliberately by instructrec_peft."""


class ConfigError(InstructRecError, ValueError):
    """A config field has a value that cannot be used; the message names the field."""


class ArgumentError(InstructRecError, ValueError):
    """A function or method got an argument it cannot work with (an empty history, an unknown name)."""


class DataError(InstructRecError, ValueError):
    """An interaction log or item table is malformed; the message names the file, line and column."""


class TemplateError(InstructRecError, ValueError):
    """A template is malformed, unknown, or cannot be rendered within its budget."""


class FormatError(TemplateError):
    """A format string is malformed or uses more than a bare placeholder name."""


class ScoringError(InstructRecError, ValueError):
    """A model produced scores that cannot be ranked (NaN); the message names the user."""


class AssetError(InstructRecError, RuntimeError):
    """A demo asset could not be obtained or verified; the message says what to do."""


class MissingFileError(InstructRecError, FileNotFoundError):
    """A file a run, dataset or adapter needs is not where it should be."""


class MissingDependencyError(InstructRecError, ImportError):
    """An optional dependency is needed for what was asked; the message says what to install."""


class WriteError(InstructRecError, OSError):
    """A file could not be written completely."""
