"""Writes that never leave a half-written file behind, in one place: a text file moved into place
whole (:func:`write_text_atomic`), and a staging folder beside the destination whose entries move
into place by rename once they are complete (:func:`staging_dir`; a run folder's saves build on it in
:meth:`~instructrec_peft.run_dir.RunDir.commit`). Renames within one folder never cross file
systems, so readers and a crash see old files or new ones, never parts.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_text_atomic", "staging_dir", "sha256_of"]


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` next to ``path``, flush it to disk and move it into place. The temporary
    file's name is unique, so two writers of one path never share it."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the files we write are meant to be read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def staging_dir(destination: str | Path) -> tempfile.TemporaryDirectory:
    """A temporary folder beside ``destination`` (removed on exit, whatever is left in it): build
    there, then rename into place."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f".{destination.name}.partial-", dir=destination.parent,
                                       ignore_cleanup_errors=True)


def sha256_of(path: str | Path) -> str:
    """The file's sha256 as hex, read in 1 MiB blocks (adapters and wheels can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
