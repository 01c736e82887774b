"""Training on item tokens: labels at every item position, and a softmax over the catalogue only.

An item-token example is the rendered prompt followed by the target's token (no EOS: the answer
is one token, scored, never generated). Its labels:

* the target token, always;
* with ``all_positions`` and a matching prompt, also every history item token after the
  first: the position before it has read the instruction and the earlier items, so it learns
  to predict that item (SASRec-style), and one forward pass over ~60 tokens gives ~50 training
  signals instead of one. A request written before a history item (``requests.py``) is read by
  the position that predicts it, so those positions learn to follow instructions. Candidate
  lists (reranking) are not sequences and are never labelled.

The loss (:func:`item_token_loss`) is cross-entropy over the item tokens' logits only: the model
chooses among items, not among all words, as in scoring.

>>> encode_item_rows(encoder, tokens, rows)              # doctest: +SKIP
{'input_ids': [[...prompt..., 49160]], 'labels': [[-100, ..., 49157, ..., -100, 49160]]}
"""

from __future__ import annotations

import contextlib
from typing import Sequence

from ..errors import ArgumentError
from ..inference.item_scoring import item_head_base, item_logits
from ..instructions.item_tokens import ItemTokens
from ..instructions.tokenization import IGNORE_INDEX

__all__ = ["item_labels", "encode_item_rows", "ItemLogits", "item_token_loss"]


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


class ItemLogits:
    """Call a causal LM for the item tokens' logits at the kept positions only: ``(kept, items)``.

    Trainer calls it in place of the model. With the output head tied to the input embedding (GPT-2,
    SmolLM2, Qwen2 small) and no logit scaling, the last hidden states of the kept positions are
    multiplied by the item tokens' rows alone, in float32: the projection onto the ~50k text
    tokens, the largest single matmul of a short item-token example, is never computed. Otherwise the model's
    own logits are computed at the kept positions and sliced; both give the same numbers. A model
    wrapped for distributed training (DDP) also takes the model's own forward, which is where the
    wrapper synchronises gradients.
    """

    def __init__(self, model, id_range: range, autocast=None):
        self.model, self.id_range = model, id_range
        self.base = item_head_base(model)
        # The decoder is called directly, not through the forward the accelerator wrapped with
        # autocast, so a bf16/fp16 run passes its autocast here (the item projection is float32).
        self.autocast = autocast or contextlib.nullcontext

    def __call__(self, input_ids, logits_to_keep, attention_mask=None, position_ids=None, **_):
        from transformers.modeling_outputs import CausalLMOutput

        if self.base is None:
            logits = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                                logits_to_keep=logits_to_keep, use_cache=False).logits
            return CausalLMOutput(logits=logits[..., self.id_range.start:self.id_range.stop])
        with self.autocast():
            hidden = self.base.get_decoder()(input_ids=input_ids, attention_mask=attention_mask,
                                             position_ids=position_ids, use_cache=False).last_hidden_state
        return CausalLMOutput(logits=item_logits(self.model, hidden[logits_to_keep], self.id_range))


def item_token_loss(id_range: range):
    """A ``compute_loss_func`` for Trainer: next-token cross-entropy over the item tokens only.

    Takes the item logits of the supervised positions (``outputs.logits`` of shape
    ``(kept, items)``, from :class:`ItemLogits`), sums, and divides by ``num_items_in_batch``
    (the accumulated batch's labels) when given, as the plain loss does.
    """
    import torch.nn.functional as F

    first, stop = id_range.start, id_range.stop

    def loss(outputs, labels, num_items_in_batch=None):
        shifted = labels[:, 1:]
        targets = shifted[shifted != IGNORE_INDEX].to(outputs.logits.device)
        if targets.numel() and (targets.min() < first or targets.max() >= stop):
            raise ArgumentError("an item-token example has a label outside the item tokens; item-token runs train "
                                "item answers only")
        total = F.cross_entropy(outputs.logits.float(), targets - first, reduction="sum")
        count = num_items_in_batch if num_items_in_batch is not None else targets.numel()
        return total / count

    return loss
