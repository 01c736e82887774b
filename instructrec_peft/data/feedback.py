"""The feedback log: what users accepted or rejected, one JSON object per line, append-only.

Records are validated before they are written and again when read (the error names the file
and line). Appends are single ``write`` calls on a descriptor opened with ``O_APPEND``, flushed to
disk, under an exclusive lock of a ``<log>.lock`` file (``filelock``: POSIX and Windows alike),
so processes writing the same log at once never interleave or lose lines.

>>> log = FeedbackLog("feedback.jsonl")                                   # doctest: +SKIP
>>> log.append(Feedback(user="196", item="Heat (1995)", accepted=False, comment="seen it"))  # doctest: +SKIP
>>> [f.item for f in log.read() if not f.accepted]                        # doctest: +SKIP
['Heat (1995)']
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import DataError, WriteError

__all__ = ["Feedback", "FeedbackLog", "MAX_COMMENT_CHARS"]

MAX_COMMENT_CHARS = 1000
_FIELDS = ("user", "item", "accepted", "comment", "time")


@dataclass(frozen=True)
class Feedback:
    user: str
    item: str
    accepted: bool
    comment: str | None = None
    time: float | None = None  # seconds since the epoch; set when the record is appended

    def __post_init__(self):
        for key in ("user", "item"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                raise DataError(f"feedback {key}: expected a non-empty string, got {value!r}")
        if not isinstance(self.accepted, bool):
            raise DataError(f"feedback accepted: expected true or false, got {self.accepted!r}")
        if self.comment is not None:
            if not isinstance(self.comment, str):
                raise DataError(f"feedback comment: expected a string or null, got {type(self.comment).__name__}")
            if len(self.comment) > MAX_COMMENT_CHARS:
                raise DataError(f"feedback comment: {len(self.comment)} characters, over {MAX_COMMENT_CHARS}")
        if self.time is not None and (isinstance(self.time, bool) or not isinstance(self.time, (int, float))
                                      or not math.isfinite(self.time) or self.time < 0):
            raise DataError(f"feedback time: expected seconds since the epoch, got {self.time!r}")

    @classmethod
    def from_dict(cls, data) -> "Feedback":
        if not isinstance(data, dict):
            raise DataError(f"expected a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise DataError(f"unknown field(s) {unknown}; a record has {list(_FIELDS)}")
        missing = [k for k in ("user", "item", "accepted") if k not in data]
        if missing:
            raise DataError(f"missing field(s) {missing}")
        return cls(**data)


class FeedbackLog:
    """An append-only JSONL file of :class:`Feedback` records."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def append(self, record: Feedback) -> Feedback:
        """Write ``record`` (stamped with the current time if it has none) as one line."""
        from filelock import FileLock

        if record.time is None:
            record = Feedback(**{**asdict(record), "time": time.time()})
        line = (json.dumps(asdict(record), ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock"):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = os.write(fd, line)
                if written != len(line):  # a short write would leave a broken line; say so, loudly
                    raise WriteError(f"{self.path}: wrote {written} of {len(line)} bytes of a feedback record")
                os.fsync(fd)
            finally:
                os.close(fd)
        return record

    def read(self) -> list[Feedback]:
        """Every record, validated; a bad line raises :class:`DataError` naming it."""
        if not self.path.is_file():
            return []
        records = []
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(Feedback.from_dict(json.loads(line)))
                except json.JSONDecodeError as err:
                    raise DataError(f"{self.path}, line {number}: not valid JSON ({err.msg})") from None
                except (DataError, TypeError) as err:
                    raise DataError(f"{self.path}, line {number}: {err}") from None
        return records
