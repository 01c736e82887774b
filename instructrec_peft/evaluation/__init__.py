"""Stage 6, evaluation: metric formulas and ``evaluate`` modules, ranking evaluation of example
rows, the non-LM baselines (popularity, BPR-MF, SASRec), the named protocols and the per-template
breakdown.

May import: ``inference`` and every stage below it.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Popularity": "baselines", "BPR": "baselines", "SASRec": "baselines", "fit_baseline": "baselines",
    "full_ranking_ranks": "baselines", "protocol_rows": "protocols", "PROTOCOLS": "protocols",
    "ranking_metrics": "metrics.formulas", "cold_start_split": "cold_start",
    "ContentScorer": "cold_start", "compare_cold_start": "cold_start",
})
