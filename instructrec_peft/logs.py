"""The package's log messages (skipped examples, trainable parameters, retriever fits) follow
``transformers.logging``: the level ``TrainingArguments.log_level`` sets for this process (and
``TRANSFORMERS_VERBOSITY``), printed to stderr as transformers prints its own.

The command line keeps what the libraries underneath print while loading (warnings, loading
progress bars, bitsandbytes' notices) out of a command's output unless ``-v`` asks for it
(:func:`quiet_libraries`), so that what a user reads is the command's answer, or one error line.

>>> follow_transformers()        # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings

__all__ = ["follow_transformers", "quiet_libraries"]

# Loggers of the libraries a command loads; their notices are not the command's output.
LIBRARY_LOGGERS = ("transformers", "peft", "accelerate", "bitsandbytes", "huggingface_hub", "datasets", "torch")

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


@contextlib.contextmanager
def quiet_libraries():
    """While open, the libraries' warnings, notices and loading progress bars are silenced (set
    before they are imported: some read their settings from the environment once, at import);
    the environment, the warning filters and the loggers' levels are restored on exit, so an
    in-process caller (a test, a notebook) is left as it was."""
    settings = {"TRANSFORMERS_VERBOSITY": "error", "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
                "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
                "TOKENIZERS_PARALLELISM": "false"}
    saved_env = {name: os.environ.get(name) for name in settings}
    loggers = [logging.getLogger(name) for name in LIBRARY_LOGGERS]
    saved_levels = [logger.level for logger in loggers]
    for name, value in settings.items():
        os.environ.setdefault(name, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for logger in loggers:
                logger.setLevel(logging.ERROR)
            yield
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for logger, level in zip(loggers, saved_levels):
            logger.setLevel(level)
