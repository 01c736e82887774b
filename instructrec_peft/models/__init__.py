"""Stage 4, models: loading a base model, its tokenizer, quantisation, PEFT wrapping, the one
model builder (``builder.py``), adapters, embedding rows, and the workspace of a config (its log,
catalogue view and rows).

May import: ``config``, ``instructions``, ``data``, ``errors``, ``files``.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "load_tokenizer": "loading", "load_base_model": "loading",
    "load_adapter": "loading", "peft_config": "loading", "build_model": "builder", "base_model": "builder",
    "Workspace": "workspace", "load_log": "workspace",
})
