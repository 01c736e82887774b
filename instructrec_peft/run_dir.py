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
      checkpoint-N/                                    complete once its trainer_state.json exists

>>> run = RunDir("outputs/items-cpu")
>>> run.manifest.name, run.config.name
('instructrec_manifest.json', 'instructrec_config.json')
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import ArgumentError, DataError, MissingFileError

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
                self.TRAIN_RESULTS, self.EVAL_RESULTS, self.COMPARISON)

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
        # states: a folder without it was cut short.
        return self.trainer_state.is_file()

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
