"""Prompt/completion pairs to token ids, with or without a chat template.

The prompt and the completion are tokenised separately and concatenated, so the boundary
between them is exact (no BPE merge across it) and the label mask is a position, never a
token-id test. With a chat template the prompt is the user turn plus the generation prompt; the
completion is the assistant's answer followed by the EOS token, which is what the model must
learn to emit to stop.

>>> encoder = PromptEncoder(tokenizer)                      # doctest: +SKIP
>>> encoder.encode("Is it good? Answer Yes or No.", "Yes")  # doctest: +SKIP
{'input_ids': [...prompt..., 10539, 2], 'labels': [-100, ..., -100, 10539, 2]}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..errors import ArgumentError

__all__ = ["IGNORE_INDEX", "ensure_pad_token", "PromptEncoder"]

IGNORE_INDEX = -100


def ensure_pad_token(tokenizer) -> bool:
    """Give a tokenizer without a pad token (GPT-2) its EOS as pad; returns True if it changed.

    Reusing EOS adds no token, so the embedding matrix needs no resize. This is safe only
    because labels are masked by position: a collator that masked by token id would then
    mask every EOS and the model would never learn to stop.
    """
    if tokenizer.pad_token_id is not None:
        return False
    if tokenizer.eos_token is None:
        raise ArgumentError("the tokenizer has neither a pad nor an EOS token; set tokenizer.pad_token first")
    tokenizer.pad_token = tokenizer.eos_token
    return True


@dataclass
class PromptEncoder:
    """Turns (prompt, completion) text into ``input_ids`` and completion-only ``labels``.

    ``chat_template``: ``None`` uses the tokenizer's chat template when it has one; ``False``
    uses plain text (prompt, ``separator``, completion); ``True`` requires a chat template.
    ``separator``: between a plain-text prompt and its completion; item-token runs use ``""`` so
    that the answer directly follows the last history item, the position that predicts the next
    item in every other place of the history too.
    ``max_length``: pairs longer than this are refused rather than cut, since a cut completion
    teaches a wrong answer and a cut prompt is the template's job (its history budget).
    """

    tokenizer: object
    chat_template: bool | None = None
    system_prompt: str | None = None
    max_length: int | None = None
    separator: str = "\n"

    def __post_init__(self):
        has_template = bool(getattr(self.tokenizer, "chat_template", None))
        if self.chat_template is None:
            self.chat_template = has_template
        elif self.chat_template and not has_template:
            raise ArgumentError("chat_template=True, but the tokenizer has no chat template")
        if self.tokenizer.eos_token_id is None:
            raise ArgumentError("the tokenizer has no EOS token: completions could not be terminated")
        if self.max_length is None:
            limit = getattr(self.tokenizer, "model_max_length", None)
            self.max_length = limit if isinstance(limit, int) and limit < 1_000_000 else None

    @classmethod
    def for_settings(cls, tokenizer, settings) -> "PromptEncoder":
        """The encoder of a ``DataArguments`` or a ``Manifest`` (``chat_template``, ``system_prompt``,
        ``answer_separator``)."""
        return cls(tokenizer, chat_template=settings.chat_template, system_prompt=settings.system_prompt,
                   separator=getattr(settings, "answer_separator", "\n"))

    def prompt_text(self, prompt: str) -> str:
        """The exact text the model sees before the completion."""
        if not self.chat_template:
            return prompt + self.separator
        messages = [{"role": "user", "content": prompt}]
        if self.system_prompt is not None:
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def prompt_ids(self, prompts: Sequence[str]) -> list[list[int]]:
        # A chat template already contains its special tokens; plain text gets the tokenizer's
        # own (e.g. BOS for Llama-style tokenizers, nothing for GPT-2).
        texts = [self.prompt_text(p) for p in prompts]
        return self.tokenizer(texts, add_special_tokens=not self.chat_template)["input_ids"]

    def completion_ids(self, completions: Sequence[str]) -> list[list[int]]:
        eos = self.tokenizer.eos_token_id
        return [ids + [eos] for ids in self.tokenizer(list(completions), add_special_tokens=False)["input_ids"]]

    def label_token_ids(self, count: int) -> list[int]:
        """First token of each candidate label (A, B, ...) as an answer: what index scoring reads."""
        from .templates import candidate_labels

        return [ids[0] for ids in self.completion_ids(candidate_labels(count))]

    def count_tokens(self, prompt: str) -> int:
        """Tokens of the prompt as encoded: the history budget of a template counts these."""
        return len(self.prompt_ids([prompt])[0])

    def encode_batch(self, prompts: Sequence[str], completions: Sequence[str]) -> dict[str, list[list[int]]]:
        """For ``datasets.Dataset.map(batched=True)``: ``input_ids`` and ``labels`` per pair."""
        input_ids, labels = [], []
        for prompt, completion in zip(self.prompt_ids(prompts), self.completion_ids(completions)):
            total = len(prompt) + len(completion)
            if self.max_length is not None and total > self.max_length:
                raise ArgumentError(f"an example of {total} tokens ({len(prompt)} prompt + {len(completion)} "
                                    "completion) "
                                    f"exceeds max_length={self.max_length}; lower the history budget "
                                    "(max_prompt_tokens) or raise max_length")
            input_ids.append(prompt + completion)
            labels.append([-100] * len(prompt) + completion)
        return {"input_ids": input_ids, "labels": labels}

    def encode(self, prompt: str, completion: str) -> dict[str, list[int]]:
        batch = self.encode_batch([prompt], [completion])
        return {key: value[0] for key, value in batch.items()}
