"""Event times: numbers in seconds, milliseconds or microseconds (told apart by their size), ISO 8601
dates or a ``strptime`` format, all read as float seconds; a value that does not parse is an error
that names its line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from ..errors import DataError
from .file_errors import row_location

TIME_UNITS = ("auto", "s", "ms", "us", "iso")
_PER_SECOND = {"s": 1.0, "ms": 1e3, "us": 1e6}


def _date(seconds: float) -> str:
    if not -62135596800 <= seconds < 253402300800:  # datetime's years 1 to 9999
        return "after year 9999" if seconds > 0 else "before year 1"
    return (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%d")


def _dates(values: pd.Series, unit: str, column: str, where: str, first_line: int) -> pd.Series:
    """Text dates -> seconds: ISO 8601, or a strptime format; a value that does not parse is an error."""
    text = values.astype("string").str.strip().replace("", pd.NA)
    fmt = "ISO8601" if unit in ("auto", "iso") else unit
    parsed = pd.to_datetime(text, format=fmt, utc=True, errors="coerce")
    bad = parsed.isna() & text.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        hint = ("is neither a number nor an ISO 8601 date; for another date layout set time_unit to its strptime "
                "format" if unit == "auto" else f"does not match time_unit {unit!r}")
        raise DataError(f"{row_location(where, first_line, row)}: {column} {values.iloc[row]!r} {hint}")
    return (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()


def parse_times(values: pd.Series, unit: str = "auto", column: str = "timestamp", where: str = "log",
                first_line: int = 0) -> tuple[pd.Series, str, list[str]]:
    """Timestamps -> float seconds since 1970, with a line saying how they were read and warnings
    for readings that look wrong (dates in 1970 or after 2100, the marks of a wrong unit)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        seconds = values.astype("int64") / 1e9
        return seconds, f"{column}: datetime values", []
    numeric = pd.to_numeric(values, errors="coerce")
    text = numeric.isna() & values.notna() & (values.astype(str) != "")
    if unit == "auto" and text.any() and numeric.notna().any():  # numbers and text: one of them is wrong
        row = int(np.flatnonzero(text.to_numpy())[0])
        raise DataError(
            f"{row_location(where, first_line, row)}: {column} {values.iloc[row]!r} is neither a number nor an "
            "ISO 8601 date; for another date layout set time_unit to its strptime format")
    if unit == "iso" or "%" in unit or (unit == "auto" and text.any()):
        seconds = _dates(values, unit, column, where, first_line)
        how = f"{column}: dates ({'ISO 8601' if unit in ('auto', 'iso') else unit})"
    else:
        if text.any():
            row = int(np.flatnonzero(text.to_numpy())[0])
            raise DataError(f"{row_location(where, first_line, row)}: {column} {values.iloc[row]!r} is not a number, "
                            f"as time_unit {unit!r} says; set time_unit: iso (or auto) for dates")
        numeric = numeric.astype("float64")
        infinite = np.isinf(numeric.to_numpy())
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise DataError(
                f"{row_location(where, first_line, row)}: {column} {values.iloc[row]!r} is not a finite time")
        detected = unit == "auto"
        if detected:
            # Seconds since 1970 stay under 1e11 until the year 5138; milliseconds pass it from March 1973.
            size = float(numeric.abs().median()) if numeric.notna().any() else 0.0
            unit = "us" if size >= 1e14 else "ms" if size >= 1e11 else "s"
        seconds = numeric / _PER_SECOND[unit]
        word = {"s": "seconds", "ms": "milliseconds", "us": "microseconds"}[unit]
        how = f"{column}: numbers read as {word}" + (" (detected from their size)" if detected else "")
    warnings = []
    known = seconds.dropna()
    if len(known):
        low, high = float(known.min()), float(known.max())
        example = values.iloc[int(np.flatnonzero(seconds.notna().to_numpy())[int(np.argmax(known.to_numpy()))])]
        example = example.item() if isinstance(example, np.generic) else example
        how += f", {_date(low)} to {_date(high)}"
        if high >= 4102444800:  # 2100-01-01
            warnings.append(f"{column}: timestamps reach {_date(high)} (e.g. {example!r}); if they are milliseconds "
                            "or microseconds read as seconds, set time_unit: ms or us")
        elif high < 31536000 and unit in ("ms", "us"):  # all within 1970, from a unit the user chose
            warnings.append(f"{column}: every timestamp falls in 1970 (e.g. {example!r}) when read as {unit}; if "
                            "they are seconds, set time_unit: s (or auto)")
        elif high < 31536000:
            how += " (numbers that only order the events, it seems: their order is all that is used)"
    return seconds, how, warnings
