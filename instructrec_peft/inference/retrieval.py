"""Content-based retrieval from LM item embeddings: items no one has interacted with can be found.

An item's embedding is the mean of the model's last hidden states over its text's tokens
(padding excluded), L2-normalised; a base or a tuned model (a ``PeftModel``) both work. A user
is the mean of their history's embeddings, a free-text query (an I2 intention such as "a
comedy movie") is embedded like an item text. Scores are cosine similarities, so items with no
interactions rank by what their text says. Embeddings are cached in an ``.npz`` keyed by the
item texts, so a changed catalogue is embedded again.

>>> retriever = ContentRetriever.build(model, tokenizer, catalog, cache="outputs/item-emb.npz")  # doctest: +SKIP
>>> retriever.top_k(history=["1", "50"], k=20)                                                    # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..errors import ArgumentError
from .modes import eval_mode

__all__ = ["embed_texts", "ContentRetriever"]


def embed_texts(model, tokenizer, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
    """(len(texts), hidden) float32, L2-normalised mean-pooled last hidden states."""
    from tqdm.auto import tqdm

    if not texts:
        raise ArgumentError("no texts to embed")
    device = next(model.parameters()).device
    out = []
    padding_side = tokenizer.padding_side
    tokenizer.padding_side = "right"
    try:
        with eval_mode(model):
            for start in tqdm(range(0, len(texts), batch_size), desc="embedding items", disable=not progress):
                batch = tokenizer(list(texts[start:start + batch_size]), return_tensors="pt", padding=True)
                batch = {k: v.to(device) for k, v in batch.items()}
                hidden = model(**batch, output_hidden_states=True).hidden_states[-1].float()  # (b, T, d)
                mask = batch["attention_mask"][..., None].float()
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
                out.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
    finally:
        tokenizer.padding_side = padding_side
    return np.concatenate(out).astype(np.float32)


def _fingerprint(items: Sequence[str], texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for item, text in zip(items, texts):
        digest.update(item.encode() + b"\0" + text.encode() + b"\n")
    return digest.hexdigest()


@dataclass
class ContentRetriever:
    items: list[str]
    vectors: np.ndarray  # (n_items, d), rows L2-normalised
    model: object = None
    tokenizer: object = None
    index: dict[str, int] = field(init=False, repr=False)  # item -> row of ``vectors``

    def __post_init__(self):
        self.index = {item: i for i, item in enumerate(self.items)}

    @classmethod
    def build(cls, model, tokenizer, catalog, cache: str | Path | None = None, batch_size: int = 32,
              progress: bool = True) -> "ContentRetriever":
        items = list(catalog.texts)
        texts = [catalog.text(i) for i in items]
        key = _fingerprint(items, texts)
        if cache is not None and Path(cache).is_file():
            stored = np.load(cache, allow_pickle=False)
            if str(stored["fingerprint"]) == key:
                return cls(items, stored["vectors"], model, tokenizer)
        vectors = embed_texts(model, tokenizer, texts, batch_size=batch_size, progress=progress)
        if cache is not None:
            path = Path(cache)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp.npz")
            np.savez(tmp, vectors=vectors, fingerprint=np.array(key))
            tmp.replace(path)
        return cls(items, vectors, model, tokenizer)

    def scores(self, history: Sequence[str] = (), query: str | None = None) -> np.ndarray:
        """Cosine similarity of every item to the mean of ``history`` (item ids) and/or ``query`` text."""
        parts = [self.vectors[[self.index[i] for i in history]]] if history else []
        if query:
            if self.model is None:
                raise ArgumentError("a text query needs the model: build the retriever with one")
            parts.append(embed_texts(self.model, self.tokenizer, [query]))
        if not parts:
            raise ArgumentError("give a history, a query, or both")
        profile = np.concatenate(parts).mean(axis=0)
        profile /= max(np.linalg.norm(profile), 1e-12)
        return self.vectors @ profile

    def top_k(self, history: Sequence[str] = (), k: int = 20, query: str | None = None,
              exclude: Sequence[str] = ()) -> list[str]:
        """The k most similar items, never one of ``history`` or ``exclude``."""
        scores = self.scores(history, query).astype(np.float64)
        for item in (*history, *exclude):
            scores[self.index[item]] = -np.inf
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.items[i] for i in order if np.isfinite(scores[i])]
