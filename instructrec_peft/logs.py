"""The package's log messages (skipped examples, trainable parameters, retriever fits) follow
``transformers.logging``: the level ``TrainingArguments.log_level`` sets for this process (and
``TRANSFORMERS_VERBOSITY``), printed to stderr as transformers prints its own.

>>> follow_transformers()        # doctest: +SKIP
"""

from __future__ import annotations

import logging

__all__ = ["follow_transformers"]

_HANDLER: logging.Handler | None = None


def follow_transformers(level: int | None = None) -> logging.Logger:
    """Give the ``instructrec_peft`` logger transformers' current verbosity (or ``level``) and, when
    nothing else would print it (no root handler: an application that configured logging keeps
    its own), one stderr handler; calling it again only updates the level."""
    global _HANDLER
    from transformers.utils import logging as hf_logging

    logger = logging.getLogger(__name__.partition(".")[0])
    logger.setLevel(level if level is not None else hf_logging.get_verbosity())
    if _HANDLER is None and not logging.getLogger().handlers:
        _HANDLER = logging.StreamHandler()
        _HANDLER.setFormatter(logging.Formatter("[%(levelname)s|%(name)s] %(message)s"))
        logger.addHandler(_HANDLER)
    return logger
