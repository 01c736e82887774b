"""A report made of sections, written once for every report: each section's results are saved to
the report's JSON as soon as the section finishes (a later failure keeps them), and the Markdown
is rebuilt from all the sections there, so one section can be rerun alone and the others stay.

>>> store = SectionStore(Path("reports/benchmark.md"), render)        # doctest: +SKIP
>>> store.run("baselines", lambda: run_baselines(ctx))                # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from instructrec_peft.errors import ArgumentError
from instructrec_peft.files import write_text_atomic

__all__ = ["SectionStore"]


class SectionStore:
    """``report`` (Markdown) and its JSON twin (``report.json``): sections are top-level keys of the
    JSON, each a dict with its ``minutes``; other top-level keys are the report's own metadata.
    ``render`` turns the whole JSON dict into the Markdown."""

    def __init__(self, report: str | Path, render: Callable[[dict], str], *, fresh: bool = False):
        self.report = Path(report)
        self.path = self.report.with_suffix(".json")
        self.render = render
        self.data: dict = {} if fresh or not self.path.is_file() else json.loads(self.path.read_text())

    def run(self, name: str, section: Callable[[], dict], **extra) -> dict:
        """Run one section, keep its result (plus ``minutes`` and ``extra``), save and re-render."""
        started = time.perf_counter()
        result = section()
        self.data[name] = {**result, **extra, "minutes": (time.perf_counter() - started) / 60}
        self.save()
        return self.data[name]

    def run_sections(self, sections, runners: dict[str, Callable], ctx) -> str:
        """Run ``sections`` in order (``runners[name](ctx)`` each), saying how long each took; with
        none, only re-render. Returns the report's Markdown."""
        for name in sections:
            done = self.run(name, lambda: runners[name](ctx))
            print(f"section {name}: {done['minutes']:.1f} min", flush=True)
        if not sections:
            self.rerender()
        return self.report.read_text()

    def save(self) -> None:
        self.report.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.path, json.dumps(self.data, indent=1, default=float) + "\n")
        self.rerender()

    def rerender(self) -> None:
        """Rebuild the Markdown from the JSON alone (no section run)."""
        if not self.data:
            raise ArgumentError(f"{self.path}: no results to render; run some sections first")
        write_text_atomic(self.report, self.render(self.data))
