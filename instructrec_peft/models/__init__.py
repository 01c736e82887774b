"""Stage 3, models and run settings: the configs (``ModelArguments``, ``DataArguments``,
``InstructRecConfig``), loading a base model, its tokenizer, quantisation and PEFT wrapping,
adapters, embedding rows, and the workspace of a config (its log, catalogue view and rows).

May import: ``instructions``, ``data``, ``errors``, ``files``.
"""
