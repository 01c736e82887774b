"""Stage 2, instructions: how a log becomes text. Safe formatting, vocabularies, the template
registry (``templates.json``), intention and preference phrasing, instruction examples and their
negatives, feedback examples, item tokens as prompts show them, the prompt encoder (chat
template, token budgets) and the manifest that lets inference render a run's prompts again.

May import: ``data``, ``errors``, ``files``. Needs a tokenizer, never a model.
"""

from ..exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Template": "templates", "get_template": "templates", "register_template": "templates",
    "build_examples": "examples", "ExampleConfig": "examples",
    "ItemTokens": "item_tokens", "PromptEncoder": "tokenization", "Manifest": "manifest",
})
