"""The two training losses, one per item space, as ``compute_loss_func`` for ``Trainer``.

* :func:`completion_loss`: next-token cross-entropy over the whole vocabulary, from the logits of
  the supervised positions only (:func:`completion_positions` is the ``logits_to_keep`` that
  selects them): items as catalogue text;
* :func:`item_token_loss`: cross-entropy over the item tokens' logits only (``(kept, items)``,
  from :class:`~instructrec_peft.models.item_head.ItemLogits`): the model chooses among items,
  not among all words, as in scoring.

Both sum, then divide by ``num_items_in_batch`` (the supervised tokens of the whole accumulated
batch, as Trainer counts them) or, without it, by this batch's count: the plain loss's scaling.
"""

from __future__ import annotations

from ..errors import ArgumentError
from ..instructions.tokenization import IGNORE_INDEX

__all__ = ["completion_positions", "completion_loss", "item_token_loss"]


def completion_positions(labels):
    """``(batch, length)`` booleans: the positions whose next token is supervised (position ``t``
    predicts token ``t + 1``), for ``logits_to_keep``."""
    import torch

    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != IGNORE_INDEX
    return keep


def completion_loss(outputs, labels, num_items_in_batch=None):
    """Next-token cross-entropy from the logits of :func:`completion_positions` only.

    ``outputs.logits`` is ``(kept, vocab)``, the kept positions in row-major order, which is the
    order of the supervised labels shifted by one: the same value as the loss over full logits.
    """
    import torch.nn.functional as F

    shifted = labels[:, 1:]
    targets = shifted[shifted != IGNORE_INDEX].to(outputs.logits.device)  # (kept,)
    total = F.cross_entropy(outputs.logits.float(), targets, reduction="sum")
    count = num_items_in_batch if num_items_in_batch is not None else targets.numel()
    return total / count


def item_token_loss(id_range: range):
    """A ``compute_loss_func``: next-token cross-entropy over the item tokens of ``id_range`` only."""
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
