"""Batches of prompt/completion examples with completion-only labels.

Each feature holds ``input_ids`` and ``labels`` (``-100`` on the prompt, as made by
:class:`~instructrec_peft.instructions.tokenization.PromptEncoder`). The collator pads both to the longest
example (rounded up to ``pad_to_multiple_of``), with the pad id for inputs and ``-100`` for
labels, and builds the attention mask from the lengths. Nothing is decided by token id, so a
pad token equal to EOS (GPT-2) leaves every real EOS label in place.

With ``padding_free=True`` the batch becomes one row without any padding: the examples are
concatenated, ``position_ids`` restart at 0 for each one (attention implementations that read
them, sdpa, eager and flash attention in current transformers, keep the examples apart; the
trainer checks this with :func:`packing.isolates_packed_sequences`), and the first label of
each example is ``-100`` so no example learns to predict the next one's first token. Its
``attention_mask`` is all ones and is only there to count tokens: the trainer drops it before
the forward pass, since a mask would hide the packing from the model.

>>> collate = CompletionOnlyCollator(pad_token_id=0, pad_to_multiple_of=4)
>>> batch = collate([{"input_ids": [5, 6, 7, 2], "labels": [-100, -100, 7, 2]},
...                  {"input_ids": [5, 8, 2], "labels": [-100, 8, 2]}])
>>> batch["input_ids"].tolist()
[[5, 6, 7, 2], [5, 8, 2, 0]]
>>> batch["labels"].tolist()
[[-100, -100, 7, 2], [-100, 8, 2, -100]]
>>> batch["attention_mask"].tolist()
[[1, 1, 1, 1], [1, 1, 1, 0]]
>>> packed = CompletionOnlyCollator(pad_token_id=0, padding_free=True)(
...     [{"input_ids": [5, 6, 7, 2], "labels": [-100, -100, 7, 2]}, {"input_ids": [5, 8, 2], "labels": [-100, 8, 2]}])
>>> packed["input_ids"].tolist(), packed["position_ids"].tolist()
([[5, 6, 7, 2, 5, 8, 2]], [[0, 1, 2, 3, 0, 1, 2]])
>>> packed["labels"].tolist()
[[-100, -100, 7, 2, -100, 8, 2]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ..errors import ArgumentError

__all__ = ["CompletionOnlyCollator"]


@dataclass
class CompletionOnlyCollator:
    pad_token_id: int
    pad_to_multiple_of: int | None = 8  # tensor-core friendly shapes on GPU; costs little on CPU
    label_pad_id: int = -100
    padding_free: bool = False

    def __post_init__(self):
        if self.pad_token_id is None:
            raise ArgumentError("pad_token_id is None: call "
                                "instructrec_peft.instructions.tokenization.ensure_pad_token(tokenizer)")
        if self.pad_to_multiple_of is not None and self.pad_to_multiple_of < 1:
            raise ArgumentError(f"pad_to_multiple_of must be >= 1 or None, got {self.pad_to_multiple_of}")

    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> "CompletionOnlyCollator":
        return cls(pad_token_id=tokenizer.pad_token_id, **kwargs)

    def __call__(self, features: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        if not features:
            raise ArgumentError("cannot collate an empty batch")
        lengths = [len(f["input_ids"]) for f in features]
        for index, feature in enumerate(features):
            if len(feature["labels"]) != lengths[index]:
                raise ArgumentError(f"feature {index}: {len(feature['labels'])} labels for {lengths[index]} input ids")
        if self.padding_free:
            return self._pack(features, lengths)
        width = max(lengths)
        if self.pad_to_multiple_of:
            width = -(-width // self.pad_to_multiple_of) * self.pad_to_multiple_of
        input_ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)  # (batch, width)
        labels = torch.full((len(features), width), self.label_pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(features), width), dtype=torch.long)
        for row, (feature, length) in enumerate(zip(features, lengths)):
            input_ids[row, :length] = torch.as_tensor(feature["input_ids"], dtype=torch.long)
            labels[row, :length] = torch.as_tensor(feature["labels"], dtype=torch.long)
            attention_mask[row, :length] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}

    def _pack(self, features, lengths) -> dict[str, torch.Tensor]:
        # (1, total): every example end to end in one row
        input_ids = torch.cat([torch.as_tensor(f["input_ids"], dtype=torch.long) for f in features])[None]
        labels = torch.cat([torch.as_tensor(f["labels"], dtype=torch.long) for f in features])[None]
        starts = torch.tensor([0] + lengths[:-1]).cumsum(0)
        labels[0, starts] = self.label_pad_id
        position_ids = torch.cat([torch.arange(n) for n in lengths])[None]
        return {"input_ids": input_ids, "labels": labels, "position_ids": position_ids,
                "attention_mask": torch.ones_like(input_ids)}
