"""Stage 7, hub: model cards rendered from ``model_cards/adapter.md`` and pushing an exported
adapter to the Hugging Face Hub.

May import: ``evaluation`` and every stage below it.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "build_card": "model_card", "write_card": "model_card", "push_adapter": "push",
})
