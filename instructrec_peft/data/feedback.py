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
import logging
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import DataError, WriteError

__all__ = ["Feedback", "FeedbackLog", "MAX_COMMENT_CHARS", "MAX_HISTORY_ITEMS"]

logger = logging.getLogger(__name__)

MAX_COMMENT_CHARS = 1000
MAX_HISTORY_ITEMS = 1000
_FIELDS = ("user", "item", "accepted", "comment", "time", "history")


@dataclass(frozen=True)
class Feedback:
    user: str
    item: str
    accepted: bool
    comment: str | None = None
    time: float | None = None  # seconds since the epoch; set when the record is appended
    # The items the user had picked when they chose (ids or texts, oldest first): a record of an
    # anonymous session (the app's) carries its own history, as the interaction log has none for it.
    history: tuple[str, ...] | None = None

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
        if self.history is not None:
            if isinstance(self.history, str) or not isinstance(self.history, (list, tuple)) or not all(
                    isinstance(i, str) and i.strip() for i in self.history):
                raise DataError(f"feedback history: expected a list of item ids or texts, got {self.history!r}")
            if len(self.history) > MAX_HISTORY_ITEMS:
                raise DataError(f"feedback history: {len(self.history)} items, over {MAX_HISTORY_ITEMS}")
            object.__setattr__(self, "history", tuple(self.history))
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
        """Write ``record`` (stamped with the current time if it has none) as one line.

        A write that fails part-way (a full disk, a file-size limit) is cut back off, so the file
        is left exactly as it was; a log torn by an older writer (no newline at its end) gets the
        new record on a line of its own.
        """
        from filelock import FileLock

        if record.time is None:
            record = Feedback(**{**asdict(record), "time": time.time()})
        fields = {k: v for k, v in asdict(record).items() if k != "history" or v is not None}
        if record.history is not None:
            fields["history"] = list(record.history)
        line = (json.dumps(fields, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock"):
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                data = line if size == 0 or os.pread(fd, 1, size - 1) == b"\n" else b"\n" + line
                try:
                    written = os.write(fd, data)
                    if written != len(data):
                        raise WriteError(f"{self.path}: wrote {written} of {len(data)} bytes of a feedback record; "
                                         "the log is left as it was (is the disk full?)")
                    os.fsync(fd)
                except OSError as err:
                    os.ftruncate(fd, size)
                    os.fsync(fd)
                    if isinstance(err, WriteError):
                        raise
                    raise WriteError(f"{self.path}: the feedback record could not be written ({err.strerror or err}); "
                                     "the log is left as it was") from None
            finally:
                os.close(fd)
        return record

    def read(self) -> list[Feedback]:
        """Every record, validated; a record that is valid JSON but not a valid record raises
        :class:`DataError` naming its line.

        Lines that are not JSON at all are the fragments a failed write left in a log written before
        appends cut their failures back off: they are skipped and listed in ``self.skipped`` (line,
        reason) and a warning, and a complete record glued after such a fragment is recovered.
        """
        self.skipped: list[tuple[int, str]] = []
        if not self.path.is_file():
            return []
        records = []
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    self.skipped.append((number, f"not valid UTF-8 at byte {err.start}"))
                    continue
                if not line.strip():
                    continue
                data = _parse_line(line)
                if data is None:
                    self.skipped.append((number, f"not a complete JSON record ({line.strip()[:40]!r})"))
                    continue
                if isinstance(data, tuple):  # a record glued after a fragment
                    self.skipped.append((number, f"a fragment of {data[0]} characters before a complete record"))
                    data = data[1]
                try:
                    records.append(Feedback.from_dict(data))
                except (DataError, TypeError) as err:
                    raise DataError(f"{self.path}, line {number}: {err}") from None
        if self.skipped:
            shown = "; ".join(f"line {n}: {why}" for n, why in self.skipped[:5])
            logger.warning("%s: skipped %d torn line(s), kept %d records (%s)", self.path, len(self.skipped),
                           len(records), shown)
        return records


def _parse_line(line: str):
    """The JSON value of ``line``; ``(fragment length, value)`` for a record glued after a torn
    fragment; ``None`` when no complete record can be read from it."""
    try:
        return json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        pass
    except ValueError:  # e.g. an integer with more digits than Python converts
        return None
    start = line.find("{", 1)
    while start != -1:
        try:
            value = json.loads(line[start:])
        except ValueError:
            start = line.find("{", start + 1)
            continue
        return (start, value) if isinstance(value, dict) else None
    return None
