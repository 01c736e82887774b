"""Candidate scoring by the model's likelihood of each candidate's text after the prompt.

A candidate's score is the log-probability of its completion tokens (text + EOS) given the
prompt, averaged over those tokens when ``normalize`` (so long titles are not punished for
length). Two exact ways to compute it:

* ``"shared_prefix"``: the prompt runs once; the n candidates then run against its KV cache
  packed end to end in a single row, each seeing the prompt and its own earlier tokens only
  (a block mask) at the positions it would have after the prompt. No cache copies and no
  padding: the cost is one pass over prompt + the candidates' own tokens, against n passes
  over prompt + candidate for naive scoring. Attention kernels that take no custom mask
  (flash attention) get the same cache repeated n times and a padded batch instead.
  PEFT prompt tuning is served too: its virtual tokens enter the prefix as input embeddings.
* ``"batched"``: n rows of prompt + candidate in one batch.
* ``"naive"``: one forward pass per candidate; the reference the others are tested against
  and the baseline of the speed benchmark.

Both take token ids, so the caller decides how prompts are formatted (chat template or not);
this module knows nothing of templates.

>>> scores = score_candidates(model, prompt_ids, [ids_a, ids_b])   # doctest: +SKIP
>>> scores.shape  # doctest: +SKIP
torch.Size([2])
"""

from __future__ import annotations

import inspect
from typing import Sequence

import torch

from ..errors import ArgumentError
from ..models.loading import is_prompt_learning
from .modes import eval_mode

__all__ = ["SCORING_METHODS", "score_candidates", "index_scores"]

SCORING_METHODS = ("shared_prefix", "batched", "naive")


def _prefix(model, prompt: torch.Tensor):
    """Run the prompt once; returns (the model that continues from the cache, the output with
    the last position's logits and the cache, the cache length). For prompt tuning the learned
    virtual tokens are prepended as input embeddings, exactly as PEFT does in its own forward, and
    the base model continues."""
    if is_prompt_learning(model):
        base = model.get_base_model()
        embeddings = base.get_input_embeddings()(prompt)  # (1, P, d)
        virtual = model.get_prompt(batch_size=1).to(embeddings.dtype)  # (1, T, d)
        inputs = torch.cat([virtual, embeddings], dim=1)
        out = base(inputs_embeds=inputs, use_cache=True, logits_to_keep=1)
        return base, out, inputs.shape[1]
    out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
    return model, out, prompt.shape[1]


def _cache_keyword(model) -> str:
    # transformers renamed `past_key_values` to `cache` during 5.x; ask the model which it takes.
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def _pad(rows: Sequence[Sequence[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long, device=device)
    mask = torch.zeros((len(rows), width), dtype=torch.long, device=device)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.as_tensor(row, dtype=torch.long, device=device)
        mask[i, : len(row)] = 1
    return ids, mask


def _reduce(token_logprobs: torch.Tensor, mask: torch.Tensor, normalize: bool) -> torch.Tensor:
    total = (token_logprobs * mask).sum(dim=1)
    return total / mask.sum(dim=1) if normalize else total


def _attention(model) -> str:
    config = model.get_base_model().config if hasattr(model, "get_base_model") else model.config
    return getattr(config, "_attn_implementation", None) or "eager"


def _continue_packed(model, cache, prefix_length: int, completions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Log-probs (n, L - 1) of tokens 1.. of each candidate, the candidates packed in one row."""
    n, width = completions.shape
    device = completions.device
    lengths = mask.sum(dim=1) - 1  # tokens each candidate feeds: all but its last
    fed = torch.arange(width - 1, device=device)[None, :] < lengths[:, None]  # (n, L - 1)
    segment = torch.arange(n, device=device)[:, None].expand(n, width - 1)[fed]  # (S,)
    offset = torch.arange(width - 1, device=device)[None, :].expand(n, width - 1)[fed]  # (S,)
    inputs = completions[:, :-1][fed][None]  # (1, S)
    packed = inputs.shape[1]
    # Row i (a fed token) sees the whole prefix and the tokens of its own candidate up to itself.
    allowed = torch.ones((packed, prefix_length + packed), dtype=torch.bool, device=device)
    allowed[:, prefix_length:] = (segment[:, None] == segment[None, :]) & (offset[None, :] <= offset[:, None])
    if _attention(model) == "sdpa":
        attention = allowed[None, None]
    else:  # eager attention adds the mask to its scores
        dtype = model.get_input_embeddings().weight.dtype
        attention = torch.zeros(allowed.shape, dtype=dtype, device=device)
        attention = attention.masked_fill(~allowed, torch.finfo(dtype).min)
        attention = attention[None, None]
    logits = model(input_ids=inputs, attention_mask=attention, position_ids=(prefix_length + offset)[None],
                   use_cache=True, **{_cache_keyword(model): cache}).logits[0]  # (S, V)
    picked = torch.log_softmax(logits.float(), dim=-1).gather(1, completions[:, 1:][fed][:, None])[:, 0]  # (S,)
    out = torch.zeros((n, width - 1), dtype=torch.float32, device=device)
    out[fed] = picked
    return out


def _continue_batched(model, cache, prefix_length: int, completions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The same log-probs with the cache repeated n times and the candidates as a padded batch."""
    n = completions.shape[0]
    cache.batch_repeat_interleave(n)
    attention = torch.cat([torch.ones((n, prefix_length), dtype=torch.long, device=completions.device),
                           mask[:, :-1]], dim=1)  # (n, P + L - 1)
    logits = model(input_ids=completions[:, :-1], attention_mask=attention, use_cache=True,
                   **{_cache_keyword(model): cache}).logits  # (n, L - 1, V)
    return torch.log_softmax(logits.float(), dim=-1).gather(2, completions[:, 1:, None])[..., 0]


def score_candidates(
    model,
    prompt_ids: Sequence[int],
    completion_ids: Sequence[Sequence[int]],
    *,
    method: str | None = None,
    normalize: bool = True,
) -> torch.Tensor:
    """Scores (float32, shape ``(n,)``, on CPU) of n completions after one prompt."""
    # shared_prefix is exact for every model, prompt tuning included (see `_prefix`).
    method = method or "shared_prefix"
    if method not in SCORING_METHODS:
        raise ArgumentError(f"unknown scoring method {method!r}; expected one of {SCORING_METHODS}")
    if not completion_ids:
        raise ArgumentError("no candidates to score")
    if any(len(c) == 0 for c in completion_ids):
        raise ArgumentError("every candidate needs at least one token (its EOS)")
    if not prompt_ids:
        raise ArgumentError("the prompt is empty")
    device = next(model.parameters()).device
    n = len(completion_ids)
    completions, mask = _pad(completion_ids, 0, device)  # (n, L)
    width = completions.shape[1]
    with eval_mode(model):
        if method == "shared_prefix":
            prompt = torch.as_tensor([list(prompt_ids)], dtype=torch.long, device=device)  # (1, P)
            continuer, out, prefix_length = _prefix(model, prompt)
            first = torch.log_softmax(out.logits[:, -1].float(), dim=-1).expand(n, -1)  # (n, V)
            token_logprobs = torch.zeros(completions.shape, dtype=torch.float32, device=device)  # (n, L)
            token_logprobs[:, :1] = first.gather(1, completions[:, :1])
            if width > 1:
                cache = getattr(out, "cache", None) or out.past_key_values
                # sdpa and eager attention take a prepared 4D mask; flash kernels know causal + padding only.
                packs = _attention(continuer) in ("sdpa", "eager")
                continue_ = _continue_packed if packs else _continue_batched
                token_logprobs[:, 1:] = continue_(continuer, cache, prefix_length, completions, mask)
        elif method == "naive":
            token_logprobs = torch.zeros(completions.shape, dtype=torch.float32, device=device)
            for i, candidate in enumerate(completion_ids):
                ids = torch.as_tensor([list(prompt_ids) + list(candidate)], dtype=torch.long, device=device)
                # Counted from the end: prompt tuning prepends virtual positions to the logits.
                logits = model(input_ids=ids).logits[0, -len(candidate) - 1:-1]  # (len(candidate), V)
                picked = torch.log_softmax(logits.float(), dim=-1).gather(1, ids[0, len(prompt_ids):, None])[:, 0]
                token_logprobs[i, : len(candidate)] = picked
        else:
            rows = [list(prompt_ids) + list(c) for c in completion_ids]
            # Right-pad after the candidate so all rows share the prompt length P.
            ids, attention = _pad(rows, 0, device)  # (n, P + L)
            logits = model(input_ids=ids, attention_mask=attention, logits_to_keep=width + 1).logits[:, :-1]
            token_logprobs = torch.log_softmax(logits.float(), dim=-1).gather(2, completions[..., None])[..., 0]
    return _reduce(token_logprobs, mask, normalize).cpu()


def index_scores(model, prompt_ids: Sequence[int], label_token_ids: Sequence[int]) -> torch.Tensor:
    """LlamaRec-style index scoring: one forward pass over a prompt that lists the candidates
    with labels (A, B, ...); each candidate's score is the log-probability of its label's token
    as the first answer token. Returns float32 scores of shape ``(n,)`` on CPU.
    """
    if not label_token_ids:
        raise ArgumentError("no candidates to score")
    if not prompt_ids:
        raise ArgumentError("the prompt is empty")
    device = next(model.parameters()).device
    with eval_mode(model):
        prompt = torch.as_tensor([list(prompt_ids)], dtype=torch.long, device=device)  # (1, P)
        logits = model(input_ids=prompt, logits_to_keep=1).logits[0, -1].float()  # (V,)
        logprobs = torch.log_softmax(logits, dim=-1)
        return logprobs[torch.as_tensor(list(label_token_ids), device=device)].cpu()
