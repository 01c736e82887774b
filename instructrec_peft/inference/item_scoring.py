"""Scoring with item tokens: one forward pass per prompt scores every item of the catalogue.

A candidate's score is its item token's logit at the answer position (the end of the prompt),
the quantity the model was trained to rank with (``models.losses.item_token_loss``). So ``loo-random-10``,
``rerank-top20`` and ``full`` ranking cost the same: read 10, 20 or all of one row of logits.

Prompts are left-padded into batches, with position ids counted from each prompt's first real
token, so a padded prompt scores exactly as it would alone. Only the last position is projected,
and with a tied output head only onto the item tokens' rows, in float32
(:func:`~instructrec_peft.models.item_head.item_logits`).

>>> scores = item_scores(model, encoder.prompt_ids(prompts), tokens.id_range)  # doctest: +SKIP
>>> scores, targets = rank_item_rows(model, encoder, tokens, rows)             # doctest: +SKIP
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import ArgumentError
from ..instructions.item_tokens import ItemTokens
from ..models.item_head import item_head_base, item_logits
from .modes import eval_mode

__all__ = ["item_scores", "score_rows", "rank_item_rows", "full_ranks"]


def item_scores(model, prompt_ids: Sequence[Sequence[int]], id_range: range, batch_size: int = 16,
                pad_id: int = 0, progress: bool = False, desc: str = "scoring items") -> torch.Tensor:
    """(len(prompt_ids), len(id_range)) float32 logits of the item tokens after each prompt."""
    if not prompt_ids:
        raise ArgumentError("no prompts to score")
    device = next(model.parameters()).device
    base = item_head_base(model)
    out = []
    with eval_mode(model):
        for start in tqdm(range(0, len(prompt_ids), batch_size), desc=desc, disable=not progress):
            rows = prompt_ids[start:start + batch_size]
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for i, row in enumerate(rows):
                ids[i, width - len(row):] = torch.as_tensor(list(row), dtype=torch.long)
                mask[i, width - len(row):] = 1
            positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
            inputs = dict(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
                          use_cache=False)
            if base is not None:
                hidden = base.get_decoder()(**inputs).last_hidden_state[:, -1]
                out.append(item_logits(model, hidden, id_range).cpu())
            else:
                logits = model(**inputs, logits_to_keep=1).logits[:, -1]
                out.append(logits[:, id_range.start:id_range.stop].float().cpu())
    return torch.cat(out)


def score_rows(model, encoder, tokens: ItemTokens, rows, batch_size: int = 16, progress: bool = True) -> np.ndarray:
    """(len(rows), len(tokens)) item scores for example rows (their ``prompt``), in token order."""
    prompts = [row["prompt"] for row in rows]
    return item_scores(model, encoder.prompt_ids(prompts), tokens.id_range, batch_size,
                       pad_id=encoder.tokenizer.pad_token_id or 0, progress=progress).numpy()


def rank_item_rows(model, encoder, tokens: ItemTokens, rows, batch_size: int = 16, progress: bool = True,
                   scores: np.ndarray | None = None) -> tuple[list[list[float]], list[int]]:
    """Scores of every row's candidates and the index of each row's target (as ``candidates.rank_rows``)."""
    scores = score_rows(model, encoder, tokens, rows, batch_size, progress) if scores is None else scores
    out, targets = [], []
    for row, row_scores in zip(rows, scores):
        if not row["candidates"]:
            raise ArgumentError(f"user {row['user']!r}: the row has no candidates to rank")
        out.append(row_scores[[tokens.position(c) for c in row["candidates"]]].tolist())
        targets.append(row["candidates"].index(row["target"]))
    return out, targets


def full_ranks(tokens: ItemTokens, rows, scores: np.ndarray, split, stage: str = "test",
               items: Sequence[str] | None = None) -> np.ndarray:
    """Rank of each row's target among every item of ``items`` (default: all item tokens) the
    user has not touched before the stage's target; ties count against it, as
    ``baselines.full_ranking_ranks`` does."""
    pool = np.asarray([tokens.position(i) for i in items]) if items is not None else np.arange(len(tokens))
    ranks = []
    for row, row_scores in zip(rows, scores):
        row_scores = row_scores.astype(np.float64)
        mask = np.zeros(len(tokens), dtype=bool)
        mask[pool] = True
        mask[[tokens.position(i) for i in split.history(row["user"], stage)]] = False
        target = tokens.position(row["target"])
        mask[target] = False
        ranks.append(1 + int(np.sum(row_scores[mask] >= row_scores[target])))
    return np.asarray(ranks)
