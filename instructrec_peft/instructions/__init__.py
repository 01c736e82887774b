"""Stage 2, instructions: how a log becomes text. Safe formatting, vocabularies, the template
registry (``templates.json``), intention and preference phrasing, instruction examples and their
negatives, feedback examples, item tokens as prompts show them, the prompt encoder (chat
template, token budgets) and the manifest that lets inference render a run's prompts again.

May import: ``data``, ``errors``, ``files``. Needs a tokenizer, never a model.
"""
