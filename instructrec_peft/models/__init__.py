"""Stage 3, models and run settings: the configs (``ModelArguments``, ``DataArguments``,
``InstructRecConfig``), loading a base model, its tokenizer, quantisation and PEFT wrapping,
adapters, embedding rows, and the workspace of a config (its log, catalogue view and rows).

May import: ``instructions``, ``data``, ``errors``, ``files``.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "ModelArguments": "config", "DataArguments": "config", "InstructRecConfig": "config",
    "parse_config": "config", "load_tokenizer": "loading", "load_base_model": "loading",
    "load_adapter": "loading", "peft_config": "loading", "Workspace": "workspace", "load_log": "workspace",
})
