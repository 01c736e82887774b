"""Run a command in a child process and measure it: wall time and the child's own peak memory.

Peak resident memory of a process only grows, so measuring several tuning runs inside one
process reports the largest run for all of them: each run gets its own child. Even then the
kernel's ``ru_maxrss`` of a child starts from its parent's memory at fork time, so on Linux the
peak is read from ``/proc/<pid>/status`` (``VmHWM``, the high-water mark of the child's own
address space after ``exec``), polled while it runs. Elsewhere ``ru_maxrss`` from ``os.wait4``
is reported, an upper bound.

>>> run = run_measured([sys.executable, "recipes/tune.py", "recipes/configs/demo-cpu.yaml"])  # doctest: +SKIP
>>> run.seconds, run.peak_rss_mb  # doctest: +SKIP
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

__all__ = ["MeasuredRun", "run_measured", "high_water_mb", "measured_tuning"]


@dataclass(frozen=True)
class MeasuredRun:
    argv: tuple[str, ...]
    seconds: float
    peak_rss_mb: float


def high_water_mb(pid: int) -> float | None:
    """The peak resident memory (MB) of process ``pid`` so far, from ``/proc`` (``None`` without it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return None


def run_measured(argv: Sequence[str], *, env: dict | None = None, cwd=None, poll_seconds: float = 0.05) -> MeasuredRun:
    """Run ``argv`` to completion (its output goes to ours); raise if it fails."""
    start = time.perf_counter()
    child = subprocess.Popen(list(argv), env=env, cwd=cwd)
    peak = None
    while child.poll() is None:
        # The high-water mark only grows; the last reading before exit is the peak to within one poll.
        peak = high_water_mb(child.pid) or peak
        time.sleep(poll_seconds)
    seconds = time.perf_counter() - start
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, list(argv))
    if peak is None:  # no /proc (macOS) or a child too quick to read: the kernel's bound
        import resource

        scale = 1024 * 1024 if sys.platform == "darwin" else 1024
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / scale
    return MeasuredRun(tuple(argv), seconds, peak)


def measured_tuning(tune_script: str | Path, argv: Sequence[str], out: str | Path) -> tuple[dict, dict]:
    """Run ``recipes/tune.py argv`` (writing to ``out``) in its own process; returns its record
    (train seconds, tokens, tokens/s, steps, process seconds, peak RSS MB, loss by step) and the
    trainer state it saved."""
    from instructrec_peft.run_dir import RunDir

    run = run_measured([sys.executable, str(tune_script), *argv])
    folder = RunDir(out)
    results, state = folder.read_json(folder.TRAIN_RESULTS), folder.read_json(folder.trainer_state.name)
    return {"train seconds": results["train_runtime"], "tokens": results["train_tokens"],
            "tokens/s": results["train_tokens_per_second"], "process seconds": run.seconds,
            "peak RSS MB": run.peak_rss_mb, "steps": state["global_step"],
            "loss": {str(e["step"]): e["loss"] for e in state["log_history"] if "loss" in e}}, state
