"""Metric tables of the reports: per-user ranks in, Markdown rows out, with 95% bootstrap intervals
and the paired difference to a reference row over the users every row shares.

A row is ``{"users": [...], protocol: [rank or None, ...]}``; ``None`` (or a missing rank) is a
miss, scored 0 on every metric.
"""

from __future__ import annotations

import numpy as np

from instructrec_peft.evaluation.metrics.bootstrap import bootstrap_ci, paired_ci, per_user

__all__ = ["ranks_of", "metric_table"]


def ranks_of(values) -> list:
    """Ranks as JSON stores them: ints, ``None`` for a miss (an infinite rank)."""
    return [None if not np.isfinite(v) else int(v) for v in np.asarray(values, dtype=np.float64)]


def _array(ranks) -> np.ndarray:
    return np.array([np.inf if r is None else r for r in ranks], dtype=np.float64)


def metric_table(rows: dict, protocol: str, reference: str | None, ci: tuple[str, ...],
                 columns: tuple[str, ...] | None = None) -> str:
    """``columns`` (default: ``ci``), the 95% intervals of ``ci``, and each row's paired difference
    in ``ci`` to the row named ``reference`` (when it is there), over the users every row shares."""
    columns = columns or ci
    common = set.intersection(*(set(r["users"]) for r in rows.values()))
    base = None
    if reference in rows:
        row = rows[reference]
        base = {u: r for u, r in zip(row["users"], row[protocol]) if u in common}
    lines = ["| system | users | " + " | ".join(c.upper() for c in columns) + " | "
             + " | ".join(f"{c.upper()} 95% CI" for c in ci) + " | "
             + " | ".join(f"{c.upper()} - {reference} (95% CI)" for c in ci) + " |",
             "|" + "---|" * (2 + len(columns) + 2 * len(ci))]
    for name, row in rows.items():
        ranks = {u: r for u, r in zip(row["users"], row[protocol]) if u in common}
        users = sorted(ranks)
        values = _array([ranks[u] for u in users])
        cells = [f"{per_user(values, metric).mean():.3f}" for metric in columns]
        cis, diffs = [], []
        for metric in ci:
            per = per_user(values, metric)
            lo, hi = bootstrap_ci(per)
            cis.append(f"{lo:.3f}-{hi:.3f}")
            if base is not None and name != reference:
                d, dlo, dhi = paired_ci(per, per_user(_array([base[u] for u in users]), metric))
                diffs.append(f"{d:+.3f} ({dlo:+.3f} to {dhi:+.3f})")
            else:
                diffs.append("")
        lines.append(f"| {name} | {len(users)} | " + " | ".join(cells) + " | " + " | ".join(cis) + " | "
                     + " | ".join(diffs) + " |")
    return "\n".join(lines)
