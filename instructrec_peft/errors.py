"""The project's exception types, so callers can catch our errors apart from library ones."""

from __future__ import annotations


class InstructRecError(Exception):
    """Base class of every error raised deliberately by instructrec_peft."""


class DataError(InstructRecError, ValueError):
    """An interaction log or item table is malformed; the message names the file, line and column."""


class TemplateError(InstructRecError, ValueError):
    """A template is malformed, unknown, or cannot be rendered within its budget."""
