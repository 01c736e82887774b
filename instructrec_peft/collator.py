"""Batches of prompt/completion examples with completion-only labels.

Each feature holds ``input_ids`` and ``labels`` (``-100`` on the prompt, as made by
:class:`~instructrec_peft.tokenization.PromptEncoder`). The collator pads both to the longest
example (rounded up to ``pad_to_multiple_of``), with the pad id for inputs and ``-100`` for
labels, and builds the attention mask from the lengths. Nothing is decided by token id, so a
pad token equal to EOS (GPT-2) leaves every real EOS label in place.

``padding_side="left"`` puts every completion at the end of its row, so the trainer can
compute logits for the last few positions only (the vocabulary projection is a large share
of a small model's compute, and most positions are prompt). Left padding then needs explicit
``position_ids`` (counted over real tokens), which the collator adds, so each row sees the
same positions as unpadded.

>>> collate = CompletionOnlyCollator(pad_token_id=0, pad_to_multiple_of=4)
>>> batch = collate([{"input_ids": [5, 6, 7, 2], "labels": [-100, -100, 7, 2]},
...                  {"input_ids": [5, 8, 2], "labels": [-100, 8, 2]}])
>>> batch["input_ids"].tolist()
[[5, 6, 7, 2], [5, 8, 2, 0]]
>>> batch["labels"].tolist()
[[-100, -100, 7, 2], [-100, 8, 2, -100]]
>>> batch["attention_mask"].tolist()
[[1, 1, 1, 1], [1, 1, 1, 0]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

__all__ = ["CompletionOnlyCollator"]


@dataclass
class CompletionOnlyCollator:
    pad_token_id: int
    pad_to_multiple_of: int | None = 8  # tensor-core friendly shapes on GPU; costs little on CPU
    label_pad_id: int = -100
    padding_side: str = "right"

    def __post_init__(self):
        if self.pad_token_id is None:
            raise ValueError("pad_token_id is None: call instructrec_peft.tokenization.ensure_pad_token(tokenizer)")
        if self.padding_side not in ("right", "left"):
            raise ValueError(f"padding_side must be 'right' or 'left', got {self.padding_side!r}")
        if self.pad_to_multiple_of is not None and self.pad_to_multiple_of < 1:
            raise ValueError(f"pad_to_multiple_of must be >= 1 or None, got {self.pad_to_multiple_of}")

    @classmethod
    def from_tokenizer(cls, tokenizer, **kwargs) -> "CompletionOnlyCollator":
        return cls(pad_token_id=tokenizer.pad_token_id, **kwargs)

    def __call__(self, features: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        if not features:
            raise ValueError("cannot collate an empty batch")
        lengths = [len(f["input_ids"]) for f in features]
        for index, feature in enumerate(features):
            if len(feature["labels"]) != lengths[index]:
                raise ValueError(f"feature {index}: {len(feature['labels'])} labels for {lengths[index]} input ids")
        width = max(lengths)
        if self.pad_to_multiple_of:
            width = -(-width // self.pad_to_multiple_of) * self.pad_to_multiple_of
        input_ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)  # (batch, width)
        labels = torch.full((len(features), width), self.label_pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(features), width), dtype=torch.long)
        for row, (feature, length) in enumerate(zip(features, lengths)):
            span = slice(0, length) if self.padding_side == "right" else slice(width - length, width)
            input_ids[row, span] = torch.as_tensor(feature["input_ids"], dtype=torch.long)
            labels[row, span] = torch.as_tensor(feature["labels"], dtype=torch.long)
            attention_mask[row, span] = 1
        batch = {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
        if self.padding_side == "left":
            batch["position_ids"] = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)  # (batch, width)
        return batch
