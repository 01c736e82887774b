"""Stage 6, hub: model cards rendered from ``model_cards/adapter.md`` and pushing an exported
adapter to the Hugging Face Hub.

May import: ``evaluation`` and every stage below it.
"""
