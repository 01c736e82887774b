"""Item-token examples as token ids: labels at every item position, not only at the answer.

An item-token example is the rendered prompt followed by the target's token (no EOS: the answer
is one token, scored, never generated). Its labels:

* the target token, always;
* with ``all_positions`` and a matching prompt, also every history item token after the
  first: the position before it has read the instruction and the earlier items, so it learns
  to predict that item (SASRec-style), and one forward pass over ~60 tokens gives ~50 training
  signals instead of one. A request written before a history item (``requests.py``) is read by
  the position that predicts it, so those positions learn to follow instructions. Candidate
  lists (reranking) are not sequences and are never labelled.

>>> item_labels([5, 100, 101, 7, 102], prompt_length=4, id_range=range(100, 110), all_positions=True)
[-100, -100, 101, -100, 102]
"""

from __future__ import annotations

from typing import Sequence

from ..errors import ArgumentError
from .item_tokens import ItemTokens
from .tokenization import IGNORE_INDEX

__all__ = ["item_labels", "encode_item_rows"]


def item_labels(input_ids: Sequence[int], prompt_length: int, id_range: range, all_positions: bool) -> list[int]:
    """Labels of one example: the answer after ``prompt_length`` tokens, and with ``all_positions``
    every item token of the prompt but the first."""
    labels = [IGNORE_INDEX] * len(input_ids)
    for position in range(prompt_length, len(input_ids)):
        labels[position] = input_ids[position]
    if all_positions:
        items = [p for p in range(prompt_length) if input_ids[p] in id_range]
        for position in items[1:]:
            labels[position] = input_ids[position]
    return labels


def encode_item_rows(encoder, tokens: ItemTokens, rows: dict, all_positions: bool = True) -> dict[str, list]:
    """For ``datasets.Dataset.map(batched=True)`` over example rows: ``input_ids`` and ``labels``.

    ``all_positions`` applies to matching rows (a history and a next item); reranking rows label
    their answer only.
    """
    ids = tokens.id_range
    input_ids, labels = [], []
    for prompt, target, task in zip(encoder.prompt_ids(rows["prompt"]), rows["target"], rows["task"]):
        row = list(prompt) + [tokens.token_id(target)]
        if encoder.max_length is not None and len(row) > encoder.max_length:
            raise ArgumentError(f"an example of {len(row)} tokens exceeds max_length={encoder.max_length}; lower "
                                "max_history_items or max_prompt_tokens")
        sequence = all_positions and task == "matching"
        input_ids.append(row)
        labels.append(item_labels(row, len(prompt), ids, sequence))
    return {"input_ids": input_ids, "labels": labels}
