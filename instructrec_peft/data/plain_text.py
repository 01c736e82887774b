"""Text from data stays text: strings shaped like a tokenizer's special or added tokens are defused.

A prompt is rendered as one string and tokenised with the tokenizer's added tokens matched
anywhere in it; that is how item tokens (``<|item_5|>``) and chat markers get in. A catalogue
title, a category or a typed intention that happens to contain such a string (``<|endoftext|>``,
``<|item_5|>``, ``<s>``, ``[SEP]``) would otherwise become that token: an end of text in mid-prompt,
or another item's token. :func:`plain_text` puts a zero-width space after the opening bracket of
every such string, so it reads the same to a person and tokenises as ordinary characters. It is
idempotent.

>>> plain_text("Tokens <|item_5|> and <|endoftext|>") == "Tokens <\u200b|item_5|> and <\u200b|endoftext|>"
True
>>> plain_text("Star Wars (1977)")
'Star Wars (1977)'
"""

from __future__ import annotations

import re

__all__ = ["plain_text", "ZERO_WIDTH_SPACE"]

ZERO_WIDTH_SPACE = "\u200b"

# The shapes special and added tokens take across tokenizers: <|...|> (GPT-2, Qwen, Llama 3, our
# item tokens), <...> and </...> (<s>, </s>, <unk>, <start_of_turn>, <think>), <<SYS>>, and the
# bracketed BERT-style names.
_SPECIAL = re.compile(r"<(?=\|[^<>|\s]{1,64}\|>)|<(?=/?[A-Za-z_][\w.:-]{0,40}>)|<(?=</?SYS>>)"
                      r"|\[(?=/?(?:CLS|SEP|PAD|MASK|UNK|BOS|EOS|INST)\])")


def plain_text(text: str) -> str:
    """``text`` with every special-token-shaped string broken by a zero-width space."""
    if "<" not in text and "[" not in text:
        return text
    return _SPECIAL.sub(lambda match: match.group(0) + ZERO_WIDTH_SPACE, text)
