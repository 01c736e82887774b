"""The files of a tuning run's output directory, in one place. Every module that writes or reads
one asks :class:`RunDir` for its path; the names peft and transformers own (the adapter's
weights and config, the trainer state, checkpoint folders) come from their own constants.

    outputs/items-cpu/
      adapter_model.safetensors, adapter_config.json   the adapter (peft)
      instructrec_manifest.json                        templates and prompt settings (prompts rendered alike)
      instructrec_config.json                          the resolved configs, no tokens
      train_results.json, eval_results.json, all_results.json, trainer_state.json
      comparison.json                                  the baselines measured beside the adapter (the card's table)
      README.md                                        the model card
      instructrec_run.json                             the record: each file's sha256, written last
      checkpoint-N/                                    complete once its trainer_state.json exists

A save is one commit (:meth:`RunDir.commit`): every file is built in a staging folder, the staging
folder is renamed ``.commit-*`` once complete (the point of no return), then its files move in,
the record last, and files of the previous run that the new one does not have are removed. A kill
before the rename leaves the old run whole; after it, :meth:`RunDir.recover` (run by every loader
and every save) finishes the move. So a folder holds one run's files, and :meth:`RunDir.verify`
refuses one whose files do not match its record (parts of two runs).

>>> run = RunDir("outputs/items-cpu")
>>> run.manifest.name, run.config.name
('instructrec_manifest.json', 'instructrec_config.json')
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Iterator

from .errors import ArgumentError, DataError, MissingFileError
from .files import sha256_of, staging_dir, write_text_atomic

__all__ = ["RunDir"]


def _peft_names() -> tuple[str, str]:
    # Imported when asked: peft pulls in torch, and this module is imported by light ones.
    from peft.utils.constants import CONFIG_NAME, SAFETENSORS_WEIGHTS_NAME

    return SAFETENSORS_WEIGHTS_NAME, CONFIG_NAME


def _trainer_names() -> tuple[str, str]:
    from transformers.trainer import TRAINER_STATE_NAME
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

    return TRAINER_STATE_NAME, PREFIX_CHECKPOINT_DIR


class RunDir:
    """A tuning run's output directory (or one of its checkpoints)."""

    CONFIG = "instructrec_config.json"
    MANIFEST = "instructrec_manifest.json"
    COMPARISON = "comparison.json"
    CARD = "README.md"
    TRAIN_RESULTS, EVAL_RESULTS, ALL_RESULTS = "train_results.json", "eval_results.json", "all_results.json"
    RECORD = "instructrec_run.json"
    # Documents re-rendered after a run (the card by `model_card`, the comparison by the demo): the
    # record does not vouch for them, but a new commit removes the old run's.
    UNRECORDED = (CARD, COMPARISON)
    COMMIT_PREFIX, STAGING_PREFIX = ".commit-", ".saving.partial-"
    # What a shared adapter carries besides the card: everything inference and the card need.
    TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
                       "merges.txt", "tokenizer.model", "added_tokens.json", "chat_template.jinja")

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    # ---- files -----------------------------------------------------------------------------

    @property
    def config(self) -> Path:
        return self.path / self.CONFIG

    @property
    def manifest(self) -> Path:
        return self.path / self.MANIFEST

    @property
    def comparison(self) -> Path:
        return self.path / self.COMPARISON

    @property
    def card(self) -> Path:
        return self.path / self.CARD

    @property
    def adapter_weights(self) -> Path:
        return self.path / _peft_names()[0]

    @property
    def adapter_config(self) -> Path:
        return self.path / _peft_names()[1]

    @property
    def trainer_state(self) -> Path:
        return self.path / _trainer_names()[0]

    def exported_files(self) -> tuple[str, ...]:
        """The file names a shared adapter carries (those present are copied), the card aside."""
        weights, adapter_config = _peft_names()
        return (adapter_config, weights, self.CONFIG, self.MANIFEST, *self.TOKENIZER_FILES, self.ALL_RESULTS,
                self.TRAIN_RESULTS, self.EVAL_RESULTS, self.COMPARISON, self.RECORD)

    def run_files(self) -> tuple[str, ...]:
        """Every file name a tuning run writes at the top of its folder (a new commit replaces them all)."""
        return (*self.exported_files(), self.CARD, _trainer_names()[0])

    # ---- one run per folder: commit, recover, verify ------------------------------------------

    @contextlib.contextmanager
    def commit(self) -> Iterator[Path]:
        """Build a save in the yielded staging folder; on leaving, it replaces the folder's run whole.

        >>> with RunDir("outputs/x").commit() as staging:          # doctest: +SKIP
        ...     model.save_pretrained(staging)
        """
        self.path.mkdir(parents=True, exist_ok=True)
        self.recover()
        with staging_dir(self.path / "saving") as folder:
            staging = Path(folder)
            yield staging
            RunDir(staging).write_record()
            _fsync_dir(staging)
            committed = self.path / (self.COMMIT_PREFIX + staging.name.rsplit("-", 1)[-1])
            os.replace(staging, committed)  # complete from here on: recover() finishes it after a kill
            _fsync_dir(self.path)
        self._roll_forward(committed)

    def write_record(self) -> None:
        """Record the folder's current files (a folder assembled by other means, such as an export)."""
        files = sorted(p.name for p in self.path.iterdir() if p.is_file() and p.name != self.RECORD)
        record = {"format": 1, "files": {n: sha256_of(self.path / n) for n in files if n not in self.UNRECORDED},
                  "documents": [n for n in files if n in self.UNRECORDED]}
        write_text_atomic(self.path / self.RECORD, json.dumps(record, indent=2) + "\n")

    def recover(self) -> None:
        """Finish a commit a kill interrupted and remove staging folders a kill left behind.

        A read-only folder with an unfinished commit is an error saying so; leftovers are then left.
        """
        if not self.path.is_dir():
            return
        for pending in sorted(self.path.glob(self.COMMIT_PREFIX + "*")):
            if not os.access(self.path, os.W_OK):
                raise DataError(f"{self.path}: a save was interrupted after it was complete ({pending.name}); open "
                                "the folder once with write access to finish it")
            self._roll_forward(pending)
        if os.access(self.path, os.W_OK):
            for leftover in self.path.glob(self.STAGING_PREFIX + "*"):
                shutil.rmtree(leftover, ignore_errors=True)

    def _roll_forward(self, committed: Path) -> None:
        # Idempotent: the old record stays until the new one replaces it, so a second kill here
        # is finished the same way by the next recover().
        new = {self.RECORD, *RunDir(committed)._recorded_files(), *(p.name for p in committed.iterdir())}
        old = set(self._recorded_files())
        for path in sorted(committed.iterdir(), key=lambda p: p.name == self.RECORD):
            if path.name == self.RECORD:
                for stale in (old | set(self.run_files())) - new:
                    # Names come from a file; only a plain name in this folder is ever removed.
                    if _plain_name(stale) and (self.path / stale).is_file():
                        (self.path / stale).unlink()
            if path.is_dir():
                if (self.path / path.name).exists():
                    shutil.rmtree(self.path / path.name)
            os.replace(path, self.path / path.name)
        _fsync_dir(self.path)
        committed.rmdir()

    def _recorded_files(self) -> list[str]:
        record = self.path / self.RECORD
        if not record.is_file():
            return []
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
            return [*data.get("files", {}), *data.get("documents", [])]
        except (ValueError, AttributeError, TypeError):
            return []

    def verify(self) -> None:
        """Refuse a folder whose files are not the ones its record lists (parts of different runs,
        or a file changed since). A folder without a record (written by an older version, or plain
        PEFT) is not checked."""
        path = self.path / self.RECORD
        if not path.is_file():
            return
        record = self.read_json(self.RECORD)
        files = record.get("files") if isinstance(record, dict) else None
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise DataError(f"{path}: not a run record (expected {{\"files\": {{name: sha256}}}})")
        for name, digest in files.items():
            if not _plain_name(name):
                raise DataError(f"{path}: the record names {name!r}, which is not a file of the run folder")
            if not (self.path / name).is_file():
                raise DataError(f"{self.path}: {name} is missing; the folder is not one whole run (tune again, or "
                                "resume with --resume_from_checkpoint latest)")
            if sha256_of(self.path / name) != digest:
                raise DataError(f"{self.path}: {name} is not the file this run wrote (its sha256 differs from "
                                f"{self.RECORD}); the folder mixes parts of different runs or was edited. Tune "
                                "again, or resume with --resume_from_checkpoint latest")

    def open(self) -> "RunDir":
        """The folder, ready to load: an interrupted commit finished, leftovers cleaned, files verified."""
        self.recover()
        self.verify()
        return self

    # ---- reading ---------------------------------------------------------------------------

    def has_adapter(self) -> bool:
        return self.adapter_weights.is_file()

    def require_adapter(self, what: str = "") -> Path:
        """The adapter weights' path; a clear error if the directory holds no safetensors adapter."""
        if not self.has_adapter():
            raise MissingFileError(f"{what}{self.path}: no {self.adapter_weights.name}; adapters are loaded from "
                                   "safetensors only (a tuning run's output directory or a checkpoint)")
        return self.adapter_weights

    def read_json(self, name: str, required: bool = True) -> dict:
        """One of the run's JSON files as a dict (``{}`` if absent and not ``required``)."""
        path = self.path / name
        if not path.is_file():
            if required:
                raise MissingFileError(f"{path}: missing; is {self.path} the output directory of a tuning run?")
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise DataError(f"{path}: not valid JSON ({err})") from None

    # ---- checkpoints -----------------------------------------------------------------------

    def is_complete_checkpoint(self) -> bool:
        # Trainer writes a checkpoint's trainer_state.json after the weights, optimizer and RNG
        # states: a folder without it was cut short, and so was one where it is empty or cut (a
        # full disk stops that very write), or whose model files are not those of its record.
        try:
            state = json.loads(self.trainer_state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(state, dict) or "global_step" not in state:
            return False
        try:
            self.verify()
        except DataError:
            return False
        return True

    def checkpoints(self) -> list[RunDir]:
        """Complete checkpoints, oldest first (by step)."""
        prefix = _trainer_names()[1] + "-"
        found = [RunDir(p) for p in self.path.glob(prefix + "*") if p.is_dir() and p.name[len(prefix):].isdigit()]
        return sorted((c for c in found if c.is_complete_checkpoint()), key=lambda c: int(c.path.name[len(prefix):]))

    def latest_checkpoint(self) -> RunDir:
        """The newest complete checkpoint; a clear error when there is none."""
        complete = self.checkpoints()
        if not complete:
            raise ArgumentError(f"resume_from_checkpoint: no complete checkpoint in {self.path}")
        return complete[-1]


def _plain_name(name) -> bool:
    """A file name of the folder itself: no separator, not hidden, not '..'."""
    return isinstance(name, str) and bool(name) and "/" not in name and "\\" not in name \
        and not name.startswith(".")


def _fsync_dir(path: Path) -> None:
    # A rename is durable once its folder is flushed; where folders cannot be opened (Windows), skip.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
