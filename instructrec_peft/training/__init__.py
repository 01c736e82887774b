"""Stage 8, training: a run's data, the collator, packing, the run's item space, the
``InstructRecTrainer`` and ``run_tuning``. It sits above evaluation and the hub because a run
ranks its validation users as it trains and writes (and may push) its card when it ends.

May import: ``hub`` and every stage below it.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "InstructRecTrainer": "trainer", "run_tuning": "tuning", "CompletionOnlyCollator": "collator",
    "cross_validate_mixes": "selection", "run_item_space": "item_space",
})
