"""The two item spaces a run can train in, behind one interface the trainer calls:

* :class:`TextSpace`: items are catalogue text in the base vocabulary; an example's answer is the
  item's title, the loss is next-token cross-entropy on the answer (projected to the vocabulary
  only where supervised), and evaluation scores each candidate's text by its likelihood;
* :class:`TokenSpace`: each item is one new token (``item_tokens``); the rows train with PEFT's
  trainable tokens at their own learning rate, every history position is labelled, the loss is a
  softmax over the item tokens only, and evaluation ranks by the item tokens' logits.

What differs between them is said here once; ``InstructRecTrainer`` holds one (``trainer.space``)
and has no branch of its own on the item space.

>>> item_space(None).name, item_space(tokens).name   # doctest: +SKIP
('text', 'tokens')
"""

from __future__ import annotations

import contextlib
import functools

from ..errors import ArgumentError
from ..evaluation.ranking import rank_rows
from ..inference.item_scoring import rank_item_rows
from ..instructions.item_tokens import ItemTokens
from .item_training import ItemLogits, encode_item_rows, item_token_loss

__all__ = ["TextSpace", "TokenSpace", "item_space", "completion_loss", "completion_positions"]


def completion_positions(labels):
    """``(batch, length)`` booleans: the positions whose next token is supervised (position ``t``
    predicts token ``t + 1``), for ``logits_to_keep``."""
    import torch

    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != -100
    return keep


def completion_loss(outputs, labels, num_items_in_batch=None):
    """Next-token cross-entropy from the logits of :func:`completion_positions` only.

    ``outputs.logits`` is ``(kept, vocab)``, the kept positions in row-major order, which is the
    order of the supervised labels shifted by one. Summed, then divided by ``num_items_in_batch``
    (the supervised tokens of the whole accumulated batch, as Trainer counts them) or, without
    it, by this batch's count: the same value as the loss over full logits.
    """
    import torch.nn.functional as F

    shifted = labels[:, 1:]
    targets = shifted[shifted != -100].to(outputs.logits.device)  # (kept,)
    total = F.cross_entropy(outputs.logits.float(), targets, reduction="sum")
    count = num_items_in_batch if num_items_in_batch is not None else targets.numel()
    return total / count


@contextlib.contextmanager
def _forward_as_loaded(model):
    """Evaluate with the model's own forward, not Accelerate's mixed-precision one: a bf16 run's
    forward is wrapped in autocast, which a loaded adapter (Recommender, plain PEFT) does not
    have, and the reported metrics must be what a user of the saved adapter gets."""
    original = model.__dict__.get("_original_forward")
    wrapped = model.__dict__.get("forward")
    if original is None or wrapped is None:
        yield
        return
    model.forward = original
    try:
        yield
    finally:
        model.forward = wrapped


class TextSpace:
    """Items as catalogue text, scored by likelihood."""

    name = "text"
    tokens: ItemTokens | None = None

    def check(self, model, tokenizer) -> None:
        """Nothing to check: the base vocabulary spells every title."""

    def trainable_tokens(self) -> list[int] | None:
        return None

    def prepare_saving(self, model) -> None:
        """The adapter saves as PEFT saves it."""

    def encode(self, encoder, data_args):
        """``batch -> input_ids, labels``: the prompt, then the completion (the title and EOS)."""
        return lambda batch: encoder.encode_batch(batch["prompt"], batch["completion"])

    def completion_only_logits(self, requested: bool) -> bool:
        return requested

    def loss_func(self, completion_only: bool):
        return completion_loss if completion_only else None

    def loss_model(self, model, autocast):
        return model

    def rank(self, model, encoder, rows, catalog, args, progress: bool):
        """Each row's candidate scores and target index, by the candidates' likelihood."""
        method = None if args.scoring_method == "auto" else args.scoring_method
        with _forward_as_loaded(model):
            return rank_rows(model, encoder, rows, catalog, method=method, normalize=args.length_normalize,
                             progress=progress)

    def row_parameters(self, model) -> set[int]:
        """``id()`` of the parameters that learn at ``item_token_learning_rate``: none."""
        return set()


class TokenSpace(TextSpace):
    """Items as tokens of their own, scored by their logits."""

    name = "tokens"

    def __init__(self, tokens: ItemTokens):
        self.tokens = tokens

    def check(self, model, tokenizer) -> None:
        self.tokens.check(tokenizer, "InstructRecTrainer(item_tokens=...)")
        if model.get_input_embeddings().weight.shape[0] < self.tokens.id_range.stop:
            raise ArgumentError("the model's embeddings do not hold the item tokens; call "
                                "item_tokens.resize_for_items(model, tokens) and initialise their rows first")

    def trainable_tokens(self) -> list[int]:
        return list(self.tokens.id_range)

    def prepare_saving(self, model) -> None:
        # PEFT would save the whole resized embedding matrix (twice, input and tied head) on
        # seeing a vocabulary larger than the base's; the trained rows are in the adapter already.
        model.save_pretrained = functools.partial(type(model).save_pretrained, model, save_embedding_layers=False)

    def encode(self, encoder, data_args):
        all_positions = data_args.all_positions if data_args else True
        return lambda batch: encode_item_rows(encoder, self.tokens, batch, all_positions)

    def completion_only_logits(self, requested: bool) -> bool:
        return True  # the item loss reads the supervised positions' logits only

    def loss_func(self, completion_only: bool):
        return item_token_loss(self.tokens.id_range)

    def loss_model(self, model, autocast):
        # Trainer's loss bookkeeping stays; the "model" it calls returns item logits only.
        return ItemLogits(model, self.tokens.id_range, autocast=autocast)

    def rank(self, model, encoder, rows, catalog, args, progress: bool):
        return rank_item_rows(model, encoder, self.tokens, rows, batch_size=args.per_device_eval_batch_size,
                              progress=progress)

    def row_parameters(self, model) -> set[int]:
        # New rows start from an initialisation, not from pretraining, and move further than
        # LoRA's low-rank updates: they get their own (higher) rate, without weight decay.
        return {id(p) for n, p in model.named_parameters() if p.requires_grad and "trainable_tokens_delta" in n}


def item_space(tokens: ItemTokens | None) -> TextSpace:
    """The space of a run: :class:`TokenSpace` for an item-token map, else :class:`TextSpace`."""
    return TextSpace() if tokens is None else TokenSpace(tokens)
