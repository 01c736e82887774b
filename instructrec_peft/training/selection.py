"""K-fold cross-validation over users of a few template mixes (task-form weights).

Users are split into K folds. For each fold and mix, a short tuning run sees the training
examples of the other folds' users only, and is scored on the held-out users' validation rows
(ranking metric, ``ndcg@10`` by default). The mix with the best mean wins; mean and spread are
reported so a user can tell a real difference from noise.

>>> mixes = ["matching=1", "matching=1,reranking=1"]
>>> scores = cross_validate_mixes(parse_config(["config.yaml", "--max_steps", "20"]), mixes, folds=3)  # doctest: +SKIP
>>> best = max(scores, key=lambda s: s.mean)                                              # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ArgumentError

__all__ = ["MixScore", "user_folds", "cross_validate_mixes"]


@dataclass
class MixScore:
    mix: str
    scores: list[float]  # one per fold

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def std(self) -> float:
        return float(np.std(self.scores))


def user_folds(users: Sequence[str], k: int, seed: int = 0) -> list[list[str]]:
    """``users`` shuffled with ``seed`` and dealt into ``k`` folds of near-equal size."""
    if k < 2:
        raise ArgumentError(f"folds must be >= 2, got {k}")
    if len(users) < k:
        raise ArgumentError(f"{len(users)} users cannot fill {k} folds")
    order = np.random.default_rng(seed).permutation(len(users))
    return [[users[i] for i in order[fold::k]] for fold in range(k)]


def cross_validate_mixes(configs: tuple, mixes: Sequence[str], folds: int = 5, metric: str = "ndcg@10",
                         workdir: str | Path | None = None, progress: bool = True) -> list[MixScore]:
    """Score each mix (a ``task_mix`` string) by K-fold cross-validation; ``configs`` (model, data
    and training arguments, as ``parse_config`` returns them) are what every run starts from."""
    from ..models.workspace import Workspace, eval_rows, train_rows
    from .trainer import InstructRecTrainer

    if not mixes:
        raise ArgumentError("no template mixes to compare")
    model_args, data_args, train_args = configs
    ws = Workspace(data_args, train_args.seed, model_args)
    tokenizer, encoder, log, split = ws.tokenizer, ws.encoder, ws.log, ws.split
    fold_users = user_folds(split.evaluated, folds, seed=train_args.seed)
    results = {mix: MixScore(mix, []) for mix in mixes}
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        for index, held_out in enumerate(fold_users):
            held = set(held_out)
            for mix in mixes:
                d_args = replace(data_args, task_mix=mix)
                t_args = replace(train_args, output_dir=str(Path(scratch) / f"fold{index}"), save_strategy="no",
                                 eval_strategy="no", report_to="none", disable_tqdm=not progress)
                train = train_rows(split, log, d_args, encoder, t_args.seed,
                                   users=[u for u in split.users if u not in held])
                valid = eval_rows(split, log, d_args, encoder, t_args.seed, "valid",
                                  users=held_out[: d_args.eval_users or None])
                trainer = InstructRecTrainer(model_args=model_args, data_args=d_args, args=t_args, train_dataset=train,
                                             eval_dataset=valid, processing_class=tokenizer, catalog=log.catalog,
                                             encoder=encoder)
                trainer.train()
                results[mix].scores.append(trainer.evaluate()[f"eval_{metric}"])
    return list(results.values())
