"""Stage 4, models: loading a base model, its tokenizer, quantisation and PEFT wrapping,
adapters, embedding rows, and the workspace of a config (its log, catalogue view and rows).

May import: ``config``, ``instructions``, ``data``, ``errors``, ``files``.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "load_tokenizer": "loading", "load_base_model": "loading",
    "load_adapter": "loading", "peft_config": "loading", "Workspace": "workspace", "load_log": "workspace",
})
