"""Stage 1, data: interaction logs and item catalogues read from files (csv, tsv, jsonl, parquet,
RecBole atomic files), the chronological leave-one-out split, catalogue domains, the demo assets
(fetched from PyPI wheels), the feedback log, synthetic logs for tests and probes.

May import: ``errors``, ``files``. Knows nothing of prompts or models.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "InteractionLog": "interactions", "ItemCatalog": "interactions", "ColumnMap": "interactions",
    "LeaveOneOutSplit": "split", "leave_one_out": "split", "load_preset": "presets", "PRESETS": "presets",
    "synthetic_log": "synthetic", "fetch": "assets", "asset_home": "assets",
})
