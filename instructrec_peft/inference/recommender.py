"""``Recommender``: a tuned adapter (or a base model, zero-shot) as a recommendation API.

>>> rec = Recommender.from_pretrained("outputs/demo-cpu", catalog=log.catalog)          # doctest: +SKIP
>>> rec.rank(["Star Wars (1977)", "Alien (1979)"], ["Heat (1995)", "Toy Story (1995)"])  # doctest: +SKIP
[('Toy Story (1995)', -1.52), ('Heat (1995)', -2.31)]
>>> rec.recommend(["Star Wars (1977)", "Alien (1979)"], k=2)                            # doctest: +SKIP
[('Aliens (1986)', 41.65), ('Raiders of the Lost Ark (1981)', 41.61)]
>>> rec.explain(["Star Wars (1977)"], "Alien (1979)")                                  # doctest: +SKIP

Prompts are rendered from the template manifest saved with the adapter, so inference sees the
wording it was trained on. History and candidates are item texts, oldest history first.
How items are named and scored is the adapter's item space (:mod:`.spaces`): a text-only
adapter's ``recommend`` generates under a prefix-trie constraint over the catalogue's tokenised
texts, so it can only return real catalogue items, never one already in the history; an
adapter tuned with item tokens (its manifest holds the item-token map) needs no catalogue:
history and candidates may be item ids or item texts, a candidate's score is its token's logit,
``recommend`` ranks every item in one forward pass, and ``add_items`` gives items that arrived
after tuning a token initialised from their text.
"""

from __future__ import annotations

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
from .modes import eval_mode
from .spaces import ItemSpace, saved_space

__all__ = ["Recommender"]

EXPLAIN_PROMPT = ("The user {past} these {nouns}: {history}. In one sentence, explain why the user might enjoy "
                  "{item}.")


class Recommender:
    def __init__(self, model, tokenizer, manifest: Manifest, catalog=None, scoring: str | None = None,
                 feedback_path: str | Path | None = None):
        ensure_pad_token(tokenizer)
        self.feedback_path = feedback_path
        self.model, self.tokenizer, self.manifest = model, tokenizer, manifest
        self.templates = {t.name: t for t in manifest.register()}
        self.encoder = PromptEncoder.for_settings(tokenizer, manifest)
        self.scoring = scoring
        # Items as catalogue text or as tokens of their own: what differs is the space's (spaces/).
        self.space: ItemSpace = saved_space(manifest, tokenizer)
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

    @property
    def item_tokens(self) -> ItemTokens | None:
        """The item-token map of an item-token adapter (``None`` for a text-only one)."""
        return self.space.tokens

    def set_catalog(self, catalog) -> None:
        """The items ``recommend`` may return: an ItemCatalog or a list of item texts (an item-token
        adapter knows its items; a catalogue only adds text lookups)."""
        self.space.set_catalog(catalog, self.encoder)

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

    def items(self, items: Sequence[str]) -> list[str]:
        """Item ids for ``items`` given by id or text (item-token adapters); an unknown or ambiguous
        text is an error naming it, before any model runs."""
        return self.space.ids(items)

    def _prompt(self, template: Template, history: Sequence[str], candidates: Sequence[str] = (),
                intention: str | None = None, preference: str | None = None) -> str:
        self._check_request(intention, preference)
        mode = self.manifest.item_text
        history, candidates = self.space.shown(history, mode), self.space.shown(candidates, mode)
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
        known = {c.lower(): c for c in self.space.known_categories()}
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
        shown = candidates if template.task == "reranking" else ()
        prompt = self._prompt(template, history, shown, intention, preference)
        return self.space.score(self.model, self.encoder, template, prompt, candidates, self.scoring)

    def rank(self, history: Sequence[str], candidates: Sequence[str], intention: str | None = None,
             preference: str | None = None) -> list[tuple[str, float]]:
        """Candidates ordered best first, with their scores."""
        scores = self.score(history, candidates, intention, preference)
        return sorted(zip(candidates, scores), key=lambda pair: -pair[1])

    # ---- generation ----------------------------------------------------------------------------

    def recommend(self, history: Sequence[str], k: int = 10, intention: str | None = None,
                  preference: str | None = None) -> list[tuple[str, float]]:
        """The ``k`` best items with their scores, best first, none from the history, in the shape
        :meth:`rank` returns: (item, score), the item as a person reads it (its text; with its id
        when two items share the text). :meth:`top_items` gives the same pairs with item ids.

        A text-only adapter finds them by beam search constrained to the catalogue's titles and
        scores them as :meth:`rank` does; an item-token adapter ranks every item by its token's
        logit in one forward pass."""
        return [(self.label(item), score) for item, score in self.top_items(history, k, intention, preference)]

    def top_items(self, history: Sequence[str], k: int = 10, intention: str | None = None,
                  preference: str | None = None) -> list[tuple[str, float]]:
        """The ``k`` best items (item ids of an item-token adapter, texts of a text-only one) with
        their scores, best first, none from the history."""
        if k < 1:
            raise ArgumentError(f"k must be >= 1, got {k}")
        if not history and not preference:
            raise ArgumentError("the history is empty: give at least one item or an explicit preference")
        history = self.space.ids(history)  # an unknown item is refused before the model runs
        template = self._template(intention, preference, task="matching")
        prompt = self._prompt(template, history, (), intention, preference)
        return self.space.top(self.model, self.encoder, template, prompt, history, k, self.scoring)

    def item_score_matrix(self, requests: Sequence[dict], batch_size: int = 16, progress: bool = False) -> np.ndarray:
        """Item-token adapters: ``(len(requests), items)`` scores (token order), batched; each request
        is a dict of ``history`` and optional ``intention`` and ``preference``, as :meth:`top_items` takes."""
        prompts = []
        for request in requests:
            intention, preference = request.get("intention"), request.get("preference")
            template = self._template(intention, preference, task="matching")
            prompts.append(self._prompt(template, request["history"], (), intention, preference))
        return self.space.score_matrix(self.model, self.encoder, prompts, batch_size, progress)

    def label(self, item: str) -> str:
        """How an item is shown to a person: its text, with its id when the text names several items."""
        return self.space.label(item)

    def add_items(self, items: Sequence[str], texts: Sequence[str],
                  categories: Sequence[Sequence[str]] | None = None) -> None:
        """Give items that arrived after tuning a token, initialised from their text (item-token adapters).

        The new rows are the mean input embedding of each text's tokens, plus that of their
        ``categories``' names when given, as at tuning time (``item_token_categories``); they are
        not trained, so these items are ranked by what their text says (cold start), and an
        intention that names their category reaches them through the category part.
        """
        self.space.add_items(self.model, self.tokenizer, items, texts, categories)
        # The manifest then describes the grown map, so a saved copy of it matches the tokenizer.
        for key, value in self.space.manifest_fields(self.manifest.item_text).items():
            setattr(self.manifest, key, value)

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
        history, (item,) = self.space.texts(history), self.space.texts([item])
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
