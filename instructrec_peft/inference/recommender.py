"""``Recommender``: a tuned adapter (or a base model, zero-shot) as a recommendation API.

>>> rec = Recommender.from_pretrained("outputs/demo-cpu", catalog=log.catalog)          # doctest: +SKIP
>>> rec.rank(["Star Wars (1977)", "Alien (1979)"], ["Heat (1995)", "Toy Story (1995)"])  # doctest: +SKIP
[('Toy Story (1995)', -1.52), ('Heat (1995)', -2.31)]
>>> rec.recommend(["Star Wars (1977)", "Alien (1979)"], k=5)                            # doctest: +SKIP
>>> rec.explain(["Star Wars (1977)"], "Alien (1979)")                                  # doctest: +SKIP

Prompts are rendered from the template manifest saved with the adapter, so inference sees the
wording it was trained on. History and candidates are item texts, oldest history first.
``recommend`` generates under a prefix-trie constraint over the catalogue's tokenised texts, so it
can only return real catalogue items, never one already in the history.

An adapter tuned with item tokens (its manifest holds the item-token map) needs no catalogue:
history and candidates may be item ids or item texts, a candidate's score is its token's logit,
``recommend`` ranks every item in one forward pass, and ``add_items`` gives items that arrived
after tuning a token initialised from their text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..data.feedback import Feedback, FeedbackLog
from ..data.plain_text import plain_text
from ..errors import ArgumentError
from ..instructions.item_tokens import ItemTokens
from ..instructions.manifest import Manifest
from ..instructions.requests import named_categories
from ..instructions.templates import Template, get_template, select
from ..instructions.tokenization import PromptEncoder, ensure_pad_token
from ..instructions.vocabulary import get_vocabulary
from .candidates import score_ranking
from .modes import eval_mode

__all__ = ["Recommender", "ItemTrie"]

EXPLAIN_PROMPT = ("The user {past} these {nouns}: {history}. In one sentence, explain why the user might enjoy "
                  "{item}.")


class ItemTrie:
    """A prefix tree over token sequences (each ending in EOS): which tokens may come next."""

    def __init__(self, sequences: Sequence[Sequence[int]]):
        self.root: dict = {}
        for sequence in sequences:
            node = self.root
            for token in sequence:
                node = node.setdefault(token, {})

    def allowed(self, prefix: Sequence[int]) -> list[int]:
        node = self.root
        for token in prefix:
            node = node.get(token)
            if node is None:
                return []
        return list(node)


@dataclass
class _Texts:
    """Catalogue texts and their token ids (with EOS), deduplicated."""

    texts: list[str]
    ids: list[list[int]]


class Recommender:
    def __init__(self, model, tokenizer, manifest: Manifest, catalog=None, scoring: str | None = None,
                 feedback_path: str | Path | None = None):
        ensure_pad_token(tokenizer)
        self.feedback_path = feedback_path
        self.model, self.tokenizer, self.manifest = model, tokenizer, manifest
        self.templates = {t.name: t for t in manifest.register()}
        self.encoder = PromptEncoder.for_settings(tokenizer, manifest)
        self.scoring = scoring
        self._catalog: _Texts | None = None
        self.item_tokens: ItemTokens | None = None
        if manifest.item_tokens:
            self.item_tokens = ItemTokens.from_dict(manifest.item_tokens)
            self.item_tokens.check(tokenizer, "the adapter's manifest")
            # A text may name several items (ML-100K has two "Chairman of the Board (1998)"): all are kept, so that
            # such a title is refused as ambiguous instead of silently meaning one of them.
            self._by_text: dict[str, list[str]] = {}
            self._index_texts(zip(self.item_tokens.items, self.item_tokens.texts))
        if catalog is not None:
            self.set_catalog(catalog)

    # ---- loading -------------------------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, adapter: str, *, catalog=None, base_model=None, model_args=None,
                        revision: str | None = None, scoring: str | None = None,
                        trust_remote_code: bool = False) -> "Recommender":
        """Load an adapter directory or Hub repository: its base model, adapter, tokenizer, manifest.

        ``trust_remote_code`` runs Python code shipped with the base model or tokenizer; only this
        argument turns it on, never a setting saved in the adapter's folder.
        """
        from ..models.loading import load_adapter, load_adapter_tokenizer, open_adapter_dir

        path = Path(adapter)
        if not path.is_dir():
            from huggingface_hub import snapshot_download

            path = Path(snapshot_download(adapter, revision=revision))
        opened = open_adapter_dir(path)  # before anything is read from it: one whole run, or an error saying why
        tokenizer = load_adapter_tokenizer(path, trust_remote_code)
        model = load_adapter(str(path), base=base_model, model_args=model_args, trust_remote_code=trust_remote_code,
                             tokenizer=tokenizer, opened=opened)
        return cls(model, tokenizer, Manifest.load(path), catalog=catalog, scoring=scoring)

    @classmethod
    def zero_shot(cls, model, tokenizer, *, catalog=None, eval_template: str = "p1-i0-matching-1",
                  vocabulary: str = "movie", system_prompt: str | None = None) -> "Recommender":
        """A base model without adapter, prompted with a built-in template."""
        template = get_template(eval_template)
        manifest = Manifest(templates=[template.to_dict()], eval_template=eval_template, vocabulary=vocabulary,
                            chat_template=bool(getattr(tokenizer, "chat_template", None)), system_prompt=system_prompt)
        return cls(model, tokenizer, manifest, catalog=catalog)

    def set_catalog(self, catalog) -> None:
        """The items ``recommend`` may return: an ItemCatalog or a list of item texts."""
        if self.item_tokens is not None:
            # Item-token adapters know their items; a catalogue only adds text lookups.
            self._index_texts((item, text) for item, text in getattr(catalog, "texts", {}).items()
                              if item in self.item_tokens)
            return
        texts = list(dict.fromkeys(catalog.texts.values() if hasattr(catalog, "texts") else catalog))
        if not texts:
            raise ArgumentError("the catalogue is empty")
        self._catalog = _Texts(texts, self.encoder.completion_ids(texts))

    # ---- prompts -------------------------------------------------------------------------------

    def _template(self, intention: str | None, preference: str | None, task: str | None = None) -> Template:
        """The manifest's evaluation template, or the closest one for the given intention,
        preference and task form: the adapter's own templates first, then the built-ins."""
        base = get_template(self.manifest.eval_template)
        response = base.response_field if task in (None, base.task) else "target"
        task = task or base.task
        wanted_p = "P2" if preference else "P1"
        wanted_i = "I1" if intention else "I0"
        if (base.preference, base.intention, base.task) == (wanted_p, wanted_i, task):
            return base
        for pool in (list(self.templates.values()), select(preference=wanted_p, intention=wanted_i, task=task)):
            for template in pool:
                if template.aspects == (wanted_p, wanted_i, task) and template.response_field == response:
                    return template
        raise ArgumentError(f"no {wanted_p}/{wanted_i}/{task} template answers with {{{response}}}")

    def _index_texts(self, pairs) -> None:
        for item, text in pairs:
            for key in {text, plain_text(text)}:
                found = self._by_text.setdefault(key, [])
                if item not in found:
                    found.append(item)

    def _item(self, item: str) -> str:
        """An item id of the item-token map, given its id or its text (a text that names several
        items is refused, listing their ids)."""
        if not isinstance(item, str):
            raise ArgumentError(f"an item is given by its id or its text (a string), got {type(item).__name__}")
        if item in self.item_tokens:
            return item
        text, marker, labelled = item.rpartition(" [id ")
        if marker and labelled.endswith("]") and labelled[:-1] in self.item_tokens \
                and self.item_tokens.text(labelled[:-1]) == text:
            return labelled[:-1]  # the form label() shows an ambiguous title in
        found = self._by_text.get(item) or self._by_text.get(plain_text(item))
        if found and len(found) == 1:
            return found[0]
        if found:
            raise ArgumentError(f"{item!r} is the text of {len(found)} items (ids {', '.join(map(repr, found))}); "
                                "give the item id instead")
        raise ArgumentError(f"unknown item {item!r}: neither an item id nor an item text of the adapter's "
                            f"{len(self.item_tokens)} items (add_items gives new items a token)")

    def items(self, items: Sequence[str]) -> list[str]:
        """Item ids for ``items`` given by id or text (item-token adapters); an unknown or ambiguous
        text is an error naming it, before any model runs."""
        if self.item_tokens is None:
            raise ArgumentError("items() maps to item ids for item-token adapters; a text-only adapter takes texts")
        return [self._item(i) for i in items]

    def _shown(self, items: Sequence[str]) -> list[str]:
        """Items as the prompts show them: texts, or (item-token adapters) tokens."""
        if self.item_tokens is None:
            return [plain_text(str(i)) for i in items]
        return [self.item_tokens.show(self._item(i), self.manifest.item_text) for i in items]

    def _prompt(self, template: Template, history: Sequence[str], candidates: Sequence[str] = (),
                intention: str | None = None, preference: str | None = None) -> str:
        self._check_request(intention, preference)
        history, candidates = self._shown(history), self._shown(candidates)
        values = {"target": "", "label": "", "answer": "", "choice": ""}
        # What a user types is text too: "<|item_5|>" in an intention is not item 5's token.
        if intention:
            values["intention"] = plain_text(intention)
        if preference:
            values["preference"] = plain_text(preference)
        return template.render(vocabulary=self.manifest.vocabulary, history=list(history), candidates=candidates,
                               count_tokens=self.encoder.count_tokens,
                               max_prompt_tokens=self.manifest.max_prompt_tokens,
                               max_history_items=self.manifest.max_history_items,
                               history_style=self.manifest.history_style, **values).prompt

    def _check_request(self, intention: str | None, preference: str | None) -> None:
        """A category named in a trained form ("a Cartoons movie", "not Horor") that no item of the
        adapter has is an error listing the known ones: the model would read it as noise."""
        known = {c.lower(): c for c in (self.item_tokens.known_categories() if self.item_tokens is not None else ())}
        if not known:
            return
        vocabulary = get_vocabulary(self.manifest.vocabulary)
        for text in (intention, preference):
            unknown = [n for n in named_categories(text or "", vocabulary.noun, vocabulary.nouns)
                       if n.lower() not in known]
            if unknown:
                raise ArgumentError(f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {unknown} in {text!r}; the "
                                    f"adapter's items have {sorted(known.values())}")

    # ---- ranking -------------------------------------------------------------------------------

    def score(self, history: Sequence[str], candidates: Sequence[str], intention: str | None = None,
              preference: str | None = None) -> list[float]:
        """A score per candidate (higher is better), in the candidates' order."""
        if not candidates:
            raise ArgumentError("the candidate list is empty")
        if not history and not preference:
            raise ArgumentError("the history is empty: give at least one item or an explicit preference")
        template = self._template(intention, preference)
        if self.item_tokens is not None:
            ids = [self.item_tokens.position(self._item(c)) for c in candidates]
            shown = candidates if template.task == "reranking" else ()
            return self._item_scores(self._prompt(template, history, shown, intention, preference))[ids].tolist()
        shown = candidates if template.task == "reranking" else ()
        prompt = self._prompt(template, history, shown, intention, preference)
        return score_ranking(self.model, self.encoder, template, prompt, list(candidates),
                             method=self.scoring).tolist()

    def _item_scores(self, prompt: str) -> torch.Tensor:
        from .item_scoring import item_scores

        return item_scores(self.model, self.encoder.prompt_ids([prompt]), self.item_tokens.id_range,
                           pad_id=self.tokenizer.pad_token_id or 0)[0]

    def rank(self, history: Sequence[str], candidates: Sequence[str], intention: str | None = None,
             preference: str | None = None) -> list[tuple[str, float]]:
        """Candidates ordered best first, with their scores."""
        scores = self.score(history, candidates, intention, preference)
        return sorted(zip(candidates, scores), key=lambda pair: -pair[1])

    # ---- generation ----------------------------------------------------------------------------

    def recommend(self, history: Sequence[str], k: int = 10, intention: str | None = None,
                  preference: str | None = None) -> list[str]:
        """``k`` catalogue items by constrained beam search, best first, none from the history.

        Item-token adapters rank every item by its token's logit in one forward pass instead.
        """
        if self.item_tokens is not None:
            return self._recommend_items(history, k, intention, preference)
        if self._catalog is None:
            raise ArgumentError("recommend needs a catalogue: pass catalog= or call set_catalog()")
        if k < 1:
            raise ArgumentError(f"k must be >= 1, got {k}")
        seen = set(history)
        keep = [i for i, text in enumerate(self._catalog.texts) if text not in seen]
        if len(keep) < k:
            raise ArgumentError(f"only {len(keep)} catalogue items are not in the history; asked for {k}")
        sequences = [self._catalog.ids[i] for i in keep]
        by_ids = {tuple(self._catalog.ids[i]): self._catalog.texts[i] for i in keep}
        trie = ItemTrie(sequences)
        template = self._template(intention, preference, task="matching")
        prompt_ids = self.encoder.prompt_ids([self._prompt(template, history, (), intention, preference)])[0]
        start = len(prompt_ids)
        eos = self.tokenizer.eos_token_id

        def allowed(_batch: int, ids: torch.Tensor) -> list[int]:
            # Once a beam has emitted EOS it is finished; pad tokens may follow it.
            return trie.allowed(ids[start:].tolist()) or [eos]

        device = next(self.model.parameters()).device
        with eval_mode(self.model):
            out = self.model.generate(
                input_ids=torch.tensor([prompt_ids], device=device),
                attention_mask=torch.ones((1, start), dtype=torch.long, device=device),
                num_beams=max(k, 2), num_return_sequences=max(k, 2), max_new_tokens=max(map(len, sequences)),
                prefix_allowed_tokens_fn=allowed, do_sample=False, eos_token_id=eos,
                pad_token_id=self.tokenizer.pad_token_id, early_stopping=True)
        results = []
        for row in out[:, start:].tolist():
            ids = row[: row.index(eos) + 1] if eos in row else row
            text = by_ids.get(tuple(ids))
            if text is not None and text not in results:
                results.append(text)
        return results[:k]

    def _recommend_items(self, history, k, intention, preference) -> list[str]:
        return [self.item_tokens.text(item) for item, _ in self.top_items(history, k, intention, preference)]

    def top_items(self, history: Sequence[str], k: int = 10, intention: str | None = None,
                  preference: str | None = None) -> list[tuple[str, float]]:
        """Item-token adapters: the ``k`` best item **ids** with their scores, best first, none
        from the history (given by ids or unambiguous texts), from one forward pass."""
        if self.item_tokens is None:
            raise ArgumentError("top_items ranks item tokens; a text-only adapter recommends with recommend()")
        if k < 1:
            raise ArgumentError(f"k must be >= 1, got {k}")
        if not history and not preference:
            raise ArgumentError("the history is empty: give at least one item or an explicit preference")
        seen = [self.item_tokens.position(item) for item in self.items(history)]  # checked before the model runs
        left = len(self.item_tokens) - len(set(seen))
        if left < k:
            raise ArgumentError(f"only {left} items are not in the history; asked for {k}")
        template = self._template(intention, preference, task="matching")
        scores = self._item_scores(self._prompt(template, history, (), intention, preference)).clone()
        scores[seen] = -torch.inf
        top = torch.topk(scores, k)
        return [(self.item_tokens.items[i], float(s)) for i, s in zip(top.indices.tolist(), top.values.tolist())]

    def item_score_matrix(self, requests: Sequence[dict], batch_size: int = 16, progress: bool = False) -> np.ndarray:
        """Item-token adapters: ``(len(requests), items)`` scores (token order), batched; each request
        is a dict of ``history`` and optional ``intention`` and ``preference``, as :meth:`top_items` takes."""
        from .item_scoring import item_scores

        if self.item_tokens is None:
            raise ArgumentError("item_score_matrix scores item tokens; a text-only adapter scores with score()")
        prompts = []
        for request in requests:
            intention, preference = request.get("intention"), request.get("preference")
            template = self._template(intention, preference, task="matching")
            prompts.append(self._prompt(template, request["history"], (), intention, preference))
        return item_scores(self.model, self.encoder.prompt_ids(prompts), self.item_tokens.id_range, batch_size,
                           pad_id=self.tokenizer.pad_token_id or 0, progress=progress,
                           desc="scoring requests").numpy()

    def label(self, item: str) -> str:
        """How an item is shown to a person: its text, with its id when the text names several items."""
        text = self.item_tokens.text(item) if self.item_tokens is not None else item
        if self.item_tokens is not None and len(self._by_text.get(text, ())) > 1:
            return f"{text} [id {item}]"
        return text

    def add_items(self, items: Sequence[str], texts: Sequence[str],
                  categories: Sequence[Sequence[str]] | None = None) -> None:
        """Give items that arrived after tuning a token, initialised from their text (item-token adapters).

        The new rows are the mean input embedding of each text's tokens, plus that of their
        ``categories``' names when given, as at tuning time (``item_token_categories``); they are
        not trained, so these items are ranked by what their text says (cold start), and an
        intention that names their category reaches them through the category part.
        """
        from .new_items import add_items

        add_items(self, items, texts, categories)

    def record_feedback(self, user: str, item: str, accepted: bool, comment: str | None = None,
                        history: Sequence[str] | None = None) -> Feedback:
        """Append what ``user`` did with a recommended ``item`` to the feedback log (``feedback_path``);
        ``history``: the items the user had when choosing, for users the interaction log does not know."""
        if self.feedback_path is None:
            raise ArgumentError("no feedback log: set Recommender.feedback_path (a .jsonl file) first")
        return FeedbackLog(self.feedback_path).append(Feedback(user=user, item=item, accepted=accepted,
                                                               comment=comment, history=history))

    def explain(self, history: Sequence[str], item: str, max_new_tokens: int = 48) -> str:
        """A short natural-language reason, generated greedily by the model."""
        if not history:
            raise ArgumentError("the history is empty: nothing to explain from")
        if self.item_tokens is not None:
            # Explanations are text: the base model's words for titles, not the tuned item tokens.
            history, item = [self.item_tokens.text(self._item(i)) for i in history], \
                self.item_tokens.text(self._item(item))
        from ..instructions.safe_format import render
        from ..instructions.templates import format_history
        from ..instructions.vocabulary import get_vocabulary

        values = {**get_vocabulary(self.manifest.vocabulary).as_values(),
                  "history": format_history(list(history)[-self.manifest.max_history_items:]), "item": item}
        prompt_ids = self.encoder.prompt_ids([render(EXPLAIN_PROMPT, values)])[0]
        device = next(self.model.parameters()).device
        with eval_mode(self.model):
            out = self.model.generate(input_ids=torch.tensor([prompt_ids], device=device),
                                      attention_mask=torch.ones((1, len(prompt_ids)), dtype=torch.long, device=device),
                                      max_new_tokens=max_new_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.pad_token_id)
        return self.tokenizer.decode(out[0, len(prompt_ids):], skip_special_tokens=True).strip()
