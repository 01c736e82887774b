"""Non-LM baselines, trained on the train part of a leave-one-out split.

* :class:`Popularity`: train counts, the same for every user;
* :class:`BPR`: matrix factorisation with the pairwise BPR loss (Rendle et al., 2009);
* :class:`SASRec`: a compact self-attentive sequential recommender (Kang & McAuley, 2018),
  trained with cross-entropy over all items at every position, early-stopped on validation
  NDCG@10 (full ranking), its weights drawn N(0, 0.02) as the published code draws them. It is
  also the retriever of the ``rerank-top20`` protocol.

Every baseline exposes ``score(user, candidates, stage)`` (higher is better),
``score_all(user, stage)`` (one score per catalogue item, for full ranking) and
``score_history(user, history)`` (the same after any prefix of the user's sequence: what a
retriever of hard negatives asks). :func:`fit_baseline` fits one by name with the settings every
report, the demo and the item-token initialisation share.

>>> from instructrec_peft.data.split import leave_one_out
>>> from instructrec_peft.data.synthetic import synthetic_log
>>> pop = Popularity.fit(leave_one_out(synthetic_log(2_000, per_user=20, seed=0)))
>>> pop.score("u0", ["0", "1"])                  # train counts of each candidate
[90.0, 95.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..data.split import LeaveOneOutSplit
from ..errors import ArgumentError
from ..inference.modes import eval_mode
from .metrics.formulas import ndcg

__all__ = ["Baseline", "Popularity", "BPR", "SASRec", "BASELINES", "fit_baseline", "item_factors",
           "full_ranking_ranks"]


class Baseline:
    items: list[str]
    index: dict[str, int]

    def score_all(self, user: str, stage: str = "test") -> np.ndarray:
        raise NotImplementedError

    def score_users(self, users: Sequence[str], stage: str = "test") -> np.ndarray:
        """``score_all`` for many users: (len(users), n_items)."""
        return np.stack([self.score_all(user, stage) for user in users])

    def score_history(self, user: str, history: Sequence[str]) -> np.ndarray:
        """Scores after ``history`` (a prefix of the user's sequence). A model without order (counts,
        a user factor) scores the user as fitted: the whole train sequence stands for any prefix."""
        return self.score_all(user)

    def score(self, user: str, candidates: Sequence[str], stage: str = "test") -> list[float]:
        scores = self.score_all(user, stage)
        return [float(scores[self.index[c]]) if c in self.index else -math.inf for c in candidates]

    def rank_rows(self, rows, stage: str = "test") -> tuple[list[list[float]], list[int]]:
        """Scores and target indices for evaluation rows (as :func:`inference.candidates.rank_rows`)."""
        scores = [self.score(row["user"], row["candidates"], stage) for row in rows]
        return scores, [row["candidates"].index(row["target"]) for row in rows]

    def best(self, user: str, history: Sequence[str], exclude, k: int) -> list[str]:
        """The k best items after ``history``, none of ``exclude``, best first (ties in item order)."""
        scores = np.asarray(self.score_history(user, history), dtype=np.float64).copy()
        scores[[self.index[i] for i in exclude if i in self.index]] = -np.inf
        return [self.items[i] for i in np.argsort(-scores, kind="stable")[:k]]

    def top_k(self, split: LeaveOneOutSplit, user: str, k: int, stage: str = "test") -> list[str]:
        """The k best items the user has not touched before the stage's target (retrieval)."""
        history = split.history(user, stage)
        return self.best(user, history, history, k)


def full_ranking_ranks(model: Baseline, split: LeaveOneOutSplit, stage: str = "test",
                       users: Sequence[str] | None = None) -> np.ndarray:
    """Rank of each user's target among every item not in the user's history (ties against it)."""
    ranks = []
    users = list(users or split.evaluated)
    for user, scores in zip(users, model.score_users(users, stage)):
        scores = scores.astype(np.float64)
        history = [model.index[i] for i in split.history(user, stage)]
        target = model.index[split.target(user, stage)]
        mask = np.ones(len(scores), dtype=bool)
        mask[history] = False
        mask[target] = False
        ranks.append(1 + int(np.sum(scores[mask] >= scores[target])))
    return np.asarray(ranks)


def _item_index(split: LeaveOneOutSplit, items: Sequence[str] | None) -> tuple[list[str], dict[str, int]]:
    items = list(items) if items is not None else sorted({i for seq in split.sequences.values() for i in seq})
    return items, {item: n for n, item in enumerate(items)}


@dataclass
class Popularity(Baseline):
    """Score = how often the item occurs in train; the same for every user."""

    items: list[str]
    index: dict[str, int]
    counts: np.ndarray

    @classmethod
    def fit(cls, split: LeaveOneOutSplit, items: Sequence[str] | None = None) -> "Popularity":
        items, index = _item_index(split, items)
        counts = np.zeros(len(items))
        for item, count in split.item_counts().items():
            counts[index[item]] = count
        return cls(items, index, counts)

    def score_all(self, user: str, stage: str = "test") -> np.ndarray:
        return self.counts


@dataclass
class BPR(Baseline):
    """Matrix factorisation ``s(u, i) = <p_u, q_i>`` trained with BPR on (user, item, negative) triples."""

    items: list[str]
    index: dict[str, int]
    users: dict[str, int]
    user_factors: np.ndarray
    item_factors: np.ndarray

    @classmethod
    def fit(cls, split: LeaveOneOutSplit, items: Sequence[str] | None = None, dim: int = 64, epochs: int = 60,
            lr: float = 1e-3, weight_decay: float = 1e-5, batch_size: int = 1024, seed: int = 0) -> "BPR":
        items, index = _item_index(split, items)
        users = {u: n for n, u in enumerate(split.sequences)}
        pairs = np.array([(users[u], index[i]) for u in split.sequences for i in split.train_sequence(u)])
        touched = [set(index[i] for i in split.train_sequence(u)) for u in split.sequences]
        generator = torch.Generator().manual_seed(seed)
        rng = np.random.default_rng(seed)
        p = nn.Embedding(len(users), dim)
        q = nn.Embedding(len(items), dim)
        nn.init.normal_(p.weight, std=0.1, generator=generator)
        nn.init.normal_(q.weight, std=0.1, generator=generator)
        optimizer = torch.optim.Adam(list(p.parameters()) + list(q.parameters()), lr=lr, weight_decay=weight_decay)
        for _ in range(epochs):
            negatives = rng.integers(len(items), size=len(pairs))
            for row, (u, _) in enumerate(pairs):  # resample negatives the user touched in train
                while negatives[row] in touched[u]:
                    negatives[row] = rng.integers(len(items))
            order = rng.permutation(len(pairs))
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                u = torch.as_tensor(pairs[batch, 0])
                i = torch.as_tensor(pairs[batch, 1])
                j = torch.as_tensor(negatives[batch])
                pu = p(u)
                margin = (pu * q(i)).sum(-1) - (pu * q(j)).sum(-1)
                loss = -nn.functional.logsigmoid(margin).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        return cls(items, index, users, p.weight.detach().numpy().copy(), q.weight.detach().numpy().copy())

    def score_all(self, user: str, stage: str = "test") -> np.ndarray:
        return self.item_factors @ self.user_factors[self.users[user]]


class _SASRecNet(nn.Module):
    def __init__(self, n_items: int, dim: int, max_len: int, layers: int, heads: int, dropout: float,
                 init_std: float | None = None):
        super().__init__()
        self.items = nn.Embedding(n_items + 1, dim, padding_idx=0)  # id 0 = padding
        self.positions = nn.Embedding(max_len, dim)
        block = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=4 * dim, dropout=dropout, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.encoder = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.max_len = max_len
        if init_std is not None:
            self._init_weights(init_std)

    def _init_weights(self, std: float) -> None:
        """Every weight matrix and embedding N(0, std), biases 0, as SASRec's published code does.
        torch's defaults draw the item rows N(0, 1): scaled by sqrt(dim) on the way in and tied to the
        output, they start the logits ~8 wide and full-catalogue training crawls (on ML-1M, 4 epochs
        gave 1,000 users' validation NDCG@10 .014 against .123 with std 0.02)."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=std)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.MultiheadAttention):  # its input projection is a bare parameter
                nn.init.normal_(module.in_proj_weight, std=std)
                nn.init.zeros_(module.in_proj_bias)
        with torch.no_grad():
            self.items.weight[0].zero_()  # padding

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        """``seq`` (batch, L) of item ids left-padded with 0 -> hidden states (batch, L, dim)."""
        length = seq.shape[1]
        x = self.items(seq) * math.sqrt(self.items.embedding_dim) + self.positions.weight[:length]
        x = self.dropout(x) * (seq != 0).unsqueeze(-1)  # padding positions carry nothing
        causal = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
        # No key-padding mask: a left-padded row's first positions would then see no key at
        # all, and their NaNs would leak into later layers. Zeroed pads are harmless instead.
        return self.norm(self.encoder(x, mask=causal))

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden @ self.items.weight[1:].T  # scores over real items (ids 1..n)


@dataclass
class SASRec(Baseline):
    """Self-attentive sequential recommendation over the user's chronological history."""

    items: list[str]
    index: dict[str, int]
    net: _SASRecNet
    split: LeaveOneOutSplit
    history: dict = field(default_factory=dict)  # training curve: epoch -> validation NDCG@10

    @classmethod
    def fit(cls, split: LeaveOneOutSplit, items: Sequence[str] | None = None, dim: int = 64, max_len: int = 50,
            layers: int = 2, heads: int = 2, dropout: float = 0.2, lr: float = 1e-3, epochs: int = 200,
            batch_size: int = 128, patience: int = 10, eval_every: int = 2, seed: int = 0,
            valid_users: Sequence[str] | None = None, init_std: float | None = 0.02,
            progress: bool = True) -> "SASRec":
        items, index = _item_index(split, items)
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        net = _SASRecNet(len(items), dim, max_len, layers, heads, dropout, init_std)
        model = cls(items, index, net, split)
        # Train sequences: inputs are items[:-1], targets items[1:], the last max_len + 1 items.
        sequences = [[index[i] + 1 for i in split.train_sequence(u)][-(max_len + 1):] for u in split.sequences]
        sequences = [s for s in sequences if len(s) >= 2]
        inputs = torch.zeros((len(sequences), max_len), dtype=torch.long)
        targets = torch.zeros((len(sequences), max_len), dtype=torch.long)
        for row, seq in enumerate(sequences):
            inputs[row, max_len - len(seq) + 1:] = torch.as_tensor(seq[:-1])
            targets[row, max_len - len(seq) + 1:] = torch.as_tensor(seq[1:])
        optimizer = torch.optim.Adam(net.parameters(), lr=lr)
        best, best_state, waited = -1.0, None, 0
        valid_users = list(valid_users or split.evaluated)
        bar = tqdm(range(1, epochs + 1), desc="SASRec epochs", disable=not progress)
        for epoch in bar:
            net.train()
            for batch in np.array_split(rng.permutation(len(sequences)), max(1, len(sequences) // batch_size)):
                # The catalogue projection only where a next item is known: left padding is most of
                # a short history's row, and the projection and softmax are most of the step.
                known = targets[batch] != 0
                logits = net.logits(net(inputs[batch])[known])  # (known positions, n_items)
                loss = nn.functional.cross_entropy(logits, targets[batch][known] - 1)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            if epoch % eval_every:
                continue
            score = ndcg(full_ranking_ranks(model, split, "valid", valid_users), 10)
            model.history[epoch] = score
            bar.set_postfix({"valid ndcg@10": f"{score:.4f}"})
            if score > best:
                best, waited = score, 0
                best_state = {k: v.clone() for k, v in net.state_dict().items()}
            else:
                waited += eval_every
                if waited >= patience:
                    break
        bar.close()
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        return model

    def score_all(self, user: str, stage: str = "test") -> np.ndarray:
        return self.score_users([user], stage)[0]

    def score_users(self, users: Sequence[str], stage: str = "test", batch_size: int = 256) -> np.ndarray:
        return self.score_sequences([self.split.history(user, stage) for user in users], batch_size)

    def score_history(self, user: str, history: Sequence[str]) -> np.ndarray:
        return self.score_sequences([history])[0]

    def score_sequences(self, histories: Sequence[Sequence[str]], batch_size: int = 256) -> np.ndarray:
        """(len(histories), n_items) next-item scores after each item sequence."""
        length = self.net.max_len
        seq = torch.zeros((len(histories), length), dtype=torch.long)  # left-padded histories
        for row, history in enumerate(histories):
            ids = [self.index[i] + 1 for i in history][-length:]
            if ids:
                seq[row, length - len(ids):] = torch.as_tensor(ids)
        with eval_mode(self.net):  # also called mid-fit, for validation: training resumes after
            out = torch.cat([self.net.logits(self.net(seq[i:i + batch_size])[:, -1])
                             for i in range(0, len(histories), batch_size)])
        return out.numpy()


BASELINES = ("popularity", "bpr", "sasrec")

# The settings every report measured: BPR's 30 epochs reach its plateau on ML-100K in ~6 s; SASRec
# stops early on validation NDCG@10 (patience 25 epochs). Its weights are drawn N(0, 0.02) as
# published; reports measured before that (torch's defaults) say so.
_FITS = {"popularity": (Popularity, {}), "bpr": (BPR, {"epochs": 30}),
         "sasrec": (SASRec, {"epochs": 300, "eval_every": 5, "patience": 25, "lr": 3e-3, "batch_size": 64})}


def fit_baseline(name: str, split: LeaveOneOutSplit, items: Sequence[str] | None = None, seed: int = 0,
                 **overrides) -> Baseline:
    """Fit the baseline ``name`` (one of :data:`BASELINES`) on ``split``'s train part with the
    shared settings; ``overrides`` replace any of them (e.g. ``epochs`` for a smoke run)."""
    if name not in _FITS:
        raise ArgumentError(f"unknown baseline {name!r}; expected one of {BASELINES}")
    cls, settings = _FITS[name]
    if cls is Popularity:
        return Popularity.fit(split, items)
    return cls.fit(split, items, seed=seed, **{**settings, **overrides})


def item_factors(method: str, split: LeaveOneOutSplit, items: Sequence[str], seed: int = 0) -> np.ndarray:
    """(len(items), k) item factors of the baseline ``method`` (``bpr`` or ``sasrec``) fitted on
    ``split``'s train part: what an item token's row adds to its title (``item_token_init``)."""
    if method not in ("bpr", "sasrec"):
        raise ArgumentError(f"unknown collaborative method {method!r}; expected 'bpr' or 'sasrec'")
    model = fit_baseline(method, split, items, seed=seed)
    if method == "bpr":
        return model.item_factors
    return model.net.items.weight.detach()[1:].numpy()  # row 0 is padding
