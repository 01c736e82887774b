"""Items as tokens: one new vocabulary entry per catalogue item, and the map that travels with an adapter.

With ``item_tokens: true`` every catalogue item gets a token ``<|item_N|>`` (``N`` its position
in the map) added to the tokenizer; the embedding matrix is resized to hold them. A history is
then a run of item tokens, a matching answer is the target's token, and a candidate's score is
its token's logit at the answer position: one forward pass ranks the whole catalogue.

:class:`ItemTokens` is the map: the item ids in token order, their texts (for ``token+title``
prompts, explanations and the initialisation of items added later), and the id of the first
token. The tokens are contiguous, so the catalogue's logits are one slice of the vocabulary.
It is data, saved in the manifest (:mod:`manifest`) and checked against the tokenizer on load,
so an adapter never silently scores the wrong rows.

>>> tokens = ItemTokens.create(["242", "302"], ["Kolya (1996)", "L.A. Confidential (1997)"], first_id=100)
>>> tokens.token("302"), tokens.token_id("302"), tokens.token_ids(["302", "242"])
('<|item_1|>', 101, [101, 100])
>>> ItemTokens.from_dict(tokens.to_dict()) == tokens
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..errors import ArgumentError, DataError

__all__ = ["ITEM_TEXT_MODES", "ItemTokens", "TokenCatalog", "add_item_tokens", "resize_for_items"]

TOKEN_FORMAT = "<|item_{}|>"
# How an item is shown in a prompt: its token alone, its token followed by its title, or its title
# alone (the text-only method, no item tokens).
ITEM_TEXT_MODES = ("tokens", "token+title", "title")


@dataclass
class ItemTokens:
    items: list[str]
    texts: list[str]
    first_id: int
    # Per item its categories, where the catalogue has them: what an intention can name, what a
    # new item's row starts from beside its title, what an explanation can say the items share.
    categories: list[list[str]] | None = None
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        self.items = [str(i) for i in self.items]
        self.texts = [str(t) for t in self.texts]
        if self.categories is not None:
            self.categories = [[str(c) for c in cats] for cats in self.categories]
            if len(self.categories) != len(self.items):
                raise DataError(f"item tokens: {len(self.items)} items but {len(self.categories)} category lists")
        if len(self.items) < 2:
            raise DataError(f"item tokens need a catalogue of at least 2 items, got {len(self.items)}: ranking one "
                            "item (or none) is not a recommendation")
        if len(self.texts) != len(self.items):
            raise DataError(f"item tokens: {len(self.items)} items but {len(self.texts)} texts")
        self._index = {item: n for n, item in enumerate(self.items)}
        if len(self._index) != len(self.items):
            seen: set[str] = set()
            duplicate = next(i for i in self.items if i in seen or seen.add(i))
            raise DataError(f"item tokens: item id {duplicate!r} appears more than once")
        if self.first_id < 0:
            raise DataError(f"item tokens: first_id must be >= 0, got {self.first_id}")

    @classmethod
    def create(cls, items: Sequence[str], texts: Sequence[str], first_id: int,
               categories: Sequence[Sequence[str]] | None = None) -> "ItemTokens":
        return cls(list(items), list(texts), first_id, None if categories is None else [list(c) for c in categories])

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item: str) -> bool:
        return item in self._index

    @property
    def strings(self) -> list[str]:
        """Every item's token string, in token order."""
        return [TOKEN_FORMAT.format(n) for n in range(len(self.items))]

    @property
    def id_range(self) -> range:
        return range(self.first_id, self.first_id + len(self.items))

    def position(self, item: str) -> int:
        try:
            return self._index[item]
        except KeyError:
            raise DataError(f"item {item!r} has no item token; the adapter's map holds {len(self.items)} items "
                            "(Recommender.add_items gives new items a token)") from None

    def token(self, item: str) -> str:
        return TOKEN_FORMAT.format(self.position(item))

    def token_id(self, item: str) -> int:
        return self.first_id + self.position(item)

    def token_ids(self, items: Sequence[str]) -> list[int]:
        return [self.first_id + self.position(i) for i in items]

    def text(self, item: str) -> str:
        return self.texts[self.position(item)]

    def categories_of(self, item: str) -> list[str]:
        """The item's categories (empty where the map has none)."""
        return list(self.categories[self.position(item)]) if self.categories is not None else []

    def known_categories(self) -> list[str]:
        """Every category of the map's items, sorted."""
        return sorted({c for cats in self.categories or () for c in cats})

    def show(self, item: str, mode: str) -> str:
        """How ``item`` appears in a prompt under ``mode`` (one of :data:`ITEM_TEXT_MODES`)."""
        if mode == "tokens":
            return self.token(item)
        if mode == "token+title":
            # Token first: a position predicts the next token, so the title must not come before it.
            return f"{self.token(item)} {self.text(item)}"
        if mode == "title":
            return self.text(item)
        raise ArgumentError(f"item_text: {mode!r} is not one of {ITEM_TEXT_MODES}")

    def extend(self, items: Sequence[str], texts: Sequence[str],
               categories: Sequence[Sequence[str]] | None = None) -> "ItemTokens":
        """The map with new items appended (their tokens follow the last one); ``categories``: theirs,
        kept when the map has categories (an item given none has none)."""
        if categories is not None and len(categories) != len(items):
            raise DataError(f"item tokens: {len(items)} new items but {len(categories)} category lists")
        merged = None
        if self.categories is not None or categories is not None:
            old = self.categories or [[] for _ in self.items]
            merged = old + [list(c) for c in (categories or [[]] * len(items))]
        return ItemTokens(self.items + [str(i) for i in items], self.texts + [str(t) for t in texts], self.first_id,
                          merged)

    def check(self, tokenizer, source: str = "the adapter") -> None:
        """Raise unless ``tokenizer`` holds exactly these tokens at these ids."""
        vocab = tokenizer.get_vocab()
        for n, string in enumerate(self.strings):
            found = vocab.get(string)
            if found != self.first_id + n:
                raise DataError(
                    f"{source}: the item-token map does not match the tokenizer: {string} (item "
                    f"{self.items[n]!r}) should be token {self.first_id + n}, the tokenizer has "
                    f"{'no such token' if found is None else found}; load the tokenizer saved with the adapter")

    def to_dict(self) -> dict:
        out = {"first_id": self.first_id, "items": list(self.items), "texts": list(self.texts)}
        if self.categories is not None:
            out["categories"] = [list(c) for c in self.categories]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "ItemTokens":
        unknown = set(data) - {"first_id", "items", "texts", "categories"}
        if unknown:
            raise ArgumentError(f"item-token map: unknown field(s) {sorted(unknown)}")
        missing = sorted({"first_id", "items", "texts"} - set(data))
        if missing:
            raise ArgumentError(f"item-token map: missing field(s) {missing}")
        first_id = data["first_id"]
        if isinstance(first_id, bool) or not isinstance(first_id, int):
            raise ArgumentError(f"item-token map: first_id must be a whole token id, got {first_id!r}")
        for key in ("items", "texts"):
            if not isinstance(data[key], list) or not all(isinstance(v, str) for v in data[key]):
                raise ArgumentError(f"item-token map: {key} must be a list of strings")
        categories = data.get("categories")
        if categories is not None and (not isinstance(categories, list) or not all(
                isinstance(cats, list) and all(isinstance(c, str) for c in cats) for cats in categories)):
            raise ArgumentError("item-token map: categories must be a list of lists of strings")
        return cls(list(data["items"]), list(data["texts"]), first_id, categories)


def add_item_tokens(tokenizer, items: Sequence[str], texts: Sequence[str],
                    categories: Sequence[Sequence[str]] | None = None) -> ItemTokens:
    """Add one token per item to ``tokenizer`` (in place) and return the map.

    The tokens must be new: a tokenizer that already has some (an adapter's own) is refused,
    because the new ids would then not be contiguous.
    """
    from tokenizers import AddedToken

    first = len(tokenizer)
    tokens = ItemTokens.create(items, texts, first, categories)
    clash = [s for s in tokens.strings[:1] + tokens.strings[-1:] if s in tokenizer.get_vocab()]
    if clash:
        raise DataError(f"the tokenizer already has item tokens ({clash[0]}); start from the base model's tokenizer")
    # normalized=False: the token matches its exact string, whatever the tokenizer's normaliser does.
    added = tokenizer.add_tokens([AddedToken(s, normalized=False, special=False) for s in tokens.strings])
    if added != len(tokens):
        raise DataError(f"the tokenizer added {added} of {len(tokens)} item tokens")
    tokens.check(tokenizer, "add_item_tokens")
    return tokens


def resize_for_items(model, tokens: ItemTokens) -> None:
    """Grow ``model``'s (tied) embeddings to hold every item token; never shrink them.

    Some models keep spare rows beyond the tokenizer (Qwen): their item tokens may already fit.
    """
    needed = tokens.first_id + len(tokens)
    current = model.get_input_embeddings().weight.shape[0]
    if needed > current:
        # mean_resizing fits a normal to the old rows; the rows are initialised by us anyway.
        model.resize_token_embeddings(needed, mean_resizing=False)


class TokenCatalog:
    """An :class:`~instructrec_peft.data.interactions.ItemCatalog` seen through item tokens.

    ``text(item)`` is how the item appears in a prompt (``mode``); categories are the catalogue's
    own (intentions and explicit preferences stay text). Example building takes it in place of
    the catalogue, so templates render item tokens with no change to the template registry.
    """

    def __init__(self, catalog, tokens: ItemTokens, mode: str = "tokens"):
        if mode not in ITEM_TEXT_MODES:
            raise ArgumentError(f"item_text: {mode!r} is not one of {ITEM_TEXT_MODES}")
        missing = [i for i in catalog.texts if i not in tokens]
        if missing:
            raise DataError(f"{len(missing)} catalogue item(s) have no item token, e.g. {missing[0]!r}")
        self.catalog, self.tokens, self.mode = catalog, tokens, mode
        self.texts = {item: tokens.show(item, mode) for item in catalog.texts}

    def __len__(self) -> int:
        return len(self.texts)

    def __contains__(self, item: str) -> bool:
        return item in self.texts

    def text(self, item: str) -> str:
        shown = self.texts.get(item)
        return shown if shown is not None else self.catalog.text(item)  # the catalogue's own error

    def categories(self, item: str) -> list[str]:
        return self.catalog.categories(item)
