"""Stage 3, config: what a run is made of, declared and checked on construction. One module per
concern: ``model`` (base, quantisation, PEFT), ``data`` (the source, its columns and filters),
``prompts`` (templates, budgets, candidates, negatives, feedback), ``item_space`` (item tokens and
requests), ``evaluation``, ``training`` (``TrainingArguments`` with ours) and ``precision``;
``arguments`` composes the data-side ones into ``DataArguments``; ``parser`` reads YAML and the
command line apart from all of them. ``settings`` declares a field's help and allowed values once,
for ``--help``, argparse and the checks of values that come from files.

An invalid value or combination raises ``ConfigError`` naming the field (and the allowed values).

May import: ``instructions``, ``data``, ``errors``, ``files``, ``run_dir``.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "ModelArguments": "model", "DataArguments": "arguments", "InstructRecConfig": "training",
    "parse_config": "parser", "saved_configs": "parser", "parse_task_mix": "prompts",
})
