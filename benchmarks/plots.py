"""The benchmark's figures (matplotlib, installed with the ``bench`` extra): a bar chart of a
metric table, and training curves with one panel per quantity so scales never mix.

>>> metric_bars(results, "reports/benchmark_metrics.png", title="loo-random-10")   # doctest: +SKIP
>>> curve_panels({"training loss (LM)": {...}, ...}, "reports/benchmark_curves.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from instructrec_peft.errors import MissingDependencyError

__all__ = ["metric_bars", "curve_panels"]


def _pyplot():
    try:
        import matplotlib
    except ImportError as err:
        raise MissingDependencyError("plots need matplotlib: pip install 'instructrec-peft[bench]'") from err
    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def metric_bars(results: Mapping[str, Mapping[str, float]], path, *, title: str,
                metrics: Sequence[str] = ("hr@1", "hr@3", "ndcg@3", "ndcg@10")) -> Path:
    """One group of bars per metric, one bar per system."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / max(1, len(results))
    for i, (name, values) in enumerate(results.items()):
        ax.bar(np.arange(len(metrics)) + i * width, [values[m] for m in metrics], width, label=name)
    ax.set_xticks(np.arange(len(metrics)) + 0.4 - width / 2, [m.upper() for m in metrics])
    ax.set_title(title)
    ax.legend(fontsize=7)
    return _save(fig, path)


def curve_panels(panels: Mapping[str, Mapping[str, Mapping[int, float]]], path, *,
                 xlabels: Mapping[str, str] | None = None, ylabels: Mapping[str, str] | None = None,
                 loglog: Sequence[str] = ()) -> Path:
    """One panel per entry of ``panels`` (title -> {series name -> {x: y}}), side by side;
    the panels named in ``loglog`` have logarithmic axes (a straight line of slope 1 is linear growth)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for axis, (title, series) in zip(axes[0], panels.items()):
        for name, curve in series.items():
            if curve:
                xs = sorted(curve, key=int)
                axis.plot([int(x) for x in xs], [curve[x] for x in xs], marker="o", markersize=3, label=name)
        axis.set_title(title)
        axis.set_xlabel((xlabels or {}).get(title, "step"))
        if title in (ylabels or {}):
            axis.set_ylabel(ylabels[title])
        if title in loglog:
            axis.set_xscale("log")
            axis.set_yscale("log")
        if axis.lines:
            axis.legend(fontsize=7)
    return _save(fig, path)


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
