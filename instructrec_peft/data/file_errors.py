"""Errors of reading a file, said as what is wrong with the file: a truncated or corrupt ``.gz`` /
``.bz2``, bytes that are not UTF-8 (with the line and column), a field larger than any real one.

The readers (:func:`~instructrec_peft.data.interactions.read_table`, the presets) wrap their reads
in :func:`reading`, so the decompressors' and decoders' own exceptions (``EOFError``,
``BadGzipFile``, ``OSError: Invalid data stream``, ``UnicodeDecodeError``, pyarrow's ``ArrowInvalid``)
never reach a user as a traceback.

>>> with reading(Path("ratings.csv.gz")):                       # doctest: +SKIP
...     frame = pd.read_csv("ratings.csv.gz")
instructrec_peft.errors.DataError: ratings.csv.gz: the compressed file ends early (a truncated download?) ...
"""

from __future__ import annotations

import contextlib
import zlib
from pathlib import Path
from typing import Iterator

from ..errors import DataError, InstructRecError

__all__ = ["reading", "utf8_error_at", "row_location", "MAX_FIELD_CHARS"]

# No title, category or id of a real catalogue comes near this; a field beyond it is a file that is
# not what it claims to be (a 200 KB .gz can hold a 200 MB "title").
MAX_FIELD_CHARS = 100_000

# Messages the decompressors raise as plain OSError (bz2, pyarrow's gzip and bz2 streams).
_CORRUPT = ("Invalid data stream", "zlib inflate failed", "Truncated compressed stream", "Not a gzipped file",
            "incorrect header check", "invalid block type", "Error -3", "BZ2", "bz2", "gzip")


def row_location(name: str, first_line: int, row: int) -> str:
    """Where a row is, as the user will look for it: a file's line, or a frame's row number."""
    return f"{name}, line {first_line + row}" if first_line else f"{name}, row {row}"


def _kind(path: Path) -> str:
    return {".gz": "gzip", ".bz2": "bz2"}.get(path.suffix.lower(), "")


def utf8_error_at(path: Path) -> tuple[int, int, int] | None:
    """(line, column, byte) of the first bytes of ``path`` (decompressed) that are not UTF-8, or ``None``."""
    import bz2
    import gzip

    opener = {"gzip": gzip.open, "bz2": bz2.open}.get(_kind(path), open)
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    prefix = raw[:err.start].decode("utf-8", errors="replace")
                    return number, len(prefix) + 1, raw[err.start]
    except (OSError, EOFError, zlib.error):
        return None
    return None


@contextlib.contextmanager
def reading(path: Path | str, what: str = "") -> Iterator[None]:
    """Turn the low-level errors of reading ``path`` into a :class:`DataError` that names the file."""
    path = Path(path)
    what = f" ({what})" if what else ""
    try:
        yield
    except InstructRecError:
        raise
    except EOFError:
        raise DataError(f"{path}{what}: the compressed file ends early (a truncated download?); download it "
                        "again") from None
    except UnicodeDecodeError as err:
        at = utf8_error_at(path)
        where = f", line {at[0]}, column {at[1]}" if at else ""
        byte = f"byte 0x{at[2]:02x}" if at else f"byte at {err.start}"
        raise DataError(f"{path}{where}{what}: not valid UTF-8 ({byte}); re-encode the file as UTF-8") from None
    except zlib.error as err:
        raise DataError(f"{path}{what}: not a valid {_kind(path) or 'compressed'} file ({err}); download it "
                        "again") from None
    except OSError as err:
        # BadGzipFile is an OSError; so are bz2's and pyarrow's stream errors, which carry no type.
        if _kind(path) and any(marker in str(err) for marker in _CORRUPT) or type(err).__name__ == "BadGzipFile":
            raise DataError(f"{path}{what}: not a valid {_kind(path) or 'gzip'} file ({err}); download it again, "
                            "or decompress it yourself to check") from None
        raise
