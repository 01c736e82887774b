"""A tuning run's data: train examples and validation rows from :class:`DataArguments`, with
negatives from a retriever fitted on the train split when ``negatives`` names one, and feedback
examples appended.

>>> prepared = prepare_data(data_args, encoder, seed=42)          # doctest: +SKIP
>>> prepared.train, prepared.valid                                # datasets.Dataset each  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..config import DataArguments
from ..data.interactions import InteractionLog
from ..data.split import LeaveOneOutSplit
from ..errors import DataError
from ..models.workspace import Workspace

__all__ = ["PreparedData", "fit_retriever", "prepare_data"]

logger = logging.getLogger(__name__)


@dataclass
class PreparedData:
    log: InteractionLog
    split: LeaveOneOutSplit
    train: object  # datasets.Dataset of train examples
    valid: object  # datasets.Dataset of validation ranking rows (eval_template)


def fit_retriever(args: DataArguments, split: LeaveOneOutSplit, log: InteractionLog, seed: int):
    """The baseline ``args.negatives`` names, fitted on the train split (``None`` for random negatives)."""
    if args.negatives == "random":
        return None
    from ..evaluation.baselines import fit_baseline

    logger.info("fitting %s on the train split: its best untouched items are the negatives", args.negatives)
    return fit_baseline(args.negatives, split, list(log.catalog.texts), seed=seed)


def prepare_data(args: DataArguments, encoder, seed: int, log: InteractionLog | None = None,
                 item_tokens=None, split: LeaveOneOutSplit | None = None) -> PreparedData:
    """Train and validation rows; ``log`` (and its ``split``) if already made, ``item_tokens`` when
    ``args.item_tokens``."""
    ws = Workspace(args, seed, encoder=encoder, log=log, split=split)
    log, split = ws.log, ws.split
    retriever = fit_retriever(args, split, log, seed)
    train = ws.train_rows(item_tokens=item_tokens, retriever=retriever)
    if args.feedback_file:
        # Feedback rows come after the cap: they are the point of a feedback round, never cut.
        import datasets

        from ..data.feedback import FeedbackLog
        from ..instructions.feedback_examples import feedback_examples

        records = FeedbackLog(args.feedback_file).read()
        if not records:
            raise DataError(f"DataArguments.feedback_file: {args.feedback_file} holds no feedback")
        extra = feedback_examples(records, split, log.catalog, vocabulary=args.vocabulary,
                                  max_history_items=args.max_history_items, count_tokens=encoder.count_tokens,
                                  max_prompt_tokens=args.max_prompt_tokens, repeats=args.feedback_repeats)
        train = datasets.concatenate_datasets([train, datasets.Dataset.from_dict(extra, features=train.features)])
        train = train.shuffle(seed=seed)
    valid = ws.rows("valid", args.eval_users, item_tokens=item_tokens, retriever=retriever)
    return PreparedData(log, split, train, valid)
