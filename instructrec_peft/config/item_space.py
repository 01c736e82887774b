"""Settings of the item space: items as new tokens of the vocabulary (how their rows start, how
prompts show them, which positions train) and the requests written into train histories."""

from __future__ import annotations

from dataclasses import dataclass

from ..instructions.item_tokens import ITEM_TEXT_MODES
from ..instructions.requests import REQUEST_KINDS
from .settings import check_choices, fail, setting

__all__ = ["ItemSpaceArguments", "ITEM_TOKEN_INITS"]

ITEM_TOKEN_INITS = ("text", "text+bpr", "text+sasrec")  # training.item_space and models.item_rows implement them


@dataclass
class ItemSpaceArguments:
    item_tokens: bool = setting(False, "one new token per catalogue item: histories, answers and scores use it "
                                       "(item_tokens.py); false: items are their titles, scored by likelihood")
    item_token_init: str = setting(
        "text+bpr", "initial item-token embeddings (text: mean of the title's token embeddings; +bpr/+sasrec: plus "
                    "a collaborative factor fitted on the train split)", choices=ITEM_TOKEN_INITS)
    item_token_categories: bool = setting(
        True, "with item_tokens, add the mean embedding of an item's category names to its initial row, so the "
              "words of an intention ('a Comedy movie') start close to the items they name (no-op without "
              "categories)")
    request_rate: float = setting(
        0.0, "share of train history positions preceded by a request the next item satisfies ('[something "
             "funny]', '[not Horror]'): how an item-token model learns to read instructions (requests.py)")
    request_examples: float = setting(
        1.0, "share of train examples that carry requests (request_rate); the rest stay plain histories")
    request_kinds: list[str] = setting(help="request kinds to draw from", choices=REQUEST_KINDS,
                                       default_factory=lambda: list(REQUEST_KINDS))
    item_text: str = setting("tokens", "how items appear in prompts with item_tokens", choices=ITEM_TEXT_MODES[:2])
    all_positions: bool = setting(
        True, "with item_tokens, P1 matching examples train every history position to predict the next item")

    def _check_item_space(self) -> None:
        name = type(self).__name__
        for key in ("request_rate", "request_examples"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                fail(name, key, f"must be in [0, 1], got {getattr(self, key)}")
        if not self.request_kinds:
            fail(name, "request_kinds", f"empty: choose from {REQUEST_KINDS}")
        check_choices(self)
