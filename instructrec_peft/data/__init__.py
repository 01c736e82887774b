"""Stage 1, data: interaction logs and item catalogues read from files (csv, tsv, jsonl, parquet,
RecBole atomic files), the chronological leave-one-out split, catalogue domains, the demo assets
(fetched from PyPI wheels), the feedback log, synthetic logs for tests and probes.

May import: ``errors``, ``files``. Knows nothing of prompts or models.
"""
