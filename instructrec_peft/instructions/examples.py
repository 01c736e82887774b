"""Instruction examples: a split log plus a template mix becomes a ``datasets.Dataset``.

Each row is one prompt/completion pair with what evaluation needs::

    user, stage, target, template, task, preference, intention,
    prompt, completion, candidates (item ids, in the order shown or scored), label, history

Per task form (InstructRec):

* pointwise: "will the user like {item}?" with balanced answers: the k-th pointwise example
  asks about the target when k is even (Yes) and about a negative when k is odd (No);
* pairwise: the target against one negative, in random order; the completion is the target;
* matching: the completion is the target's text;
* reranking: the target among ``num_candidates - 1`` negatives, shuffled, listed with labels.

Negatives are items the user never touched in any stage: random ones, or a retriever's best
(hard negatives, ``negatives.py``). Intentions come from the target's
categories (I2: all of them, "a Crime, Thriller movie"; I1: a vaguer phrase from one of them,
"something suspenseful"); explicit preferences (P2) are statements built from the history's
ratings ("I like Comedy and Drama movies. I dislike Horror movies."). For the valid and test
stages every row also carries ``num_candidates`` scored candidates (target + negatives), the
``loo-random-10`` protocol when ``num_candidates=10``. One seed fixes everything.

>>> config = ExampleConfig(tasks={"matching": 1.0}, seed=0)
>>> dataset = build_examples(split, catalog, "train", config)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from ..data.interactions import ItemCatalog
from ..data.split import LeaveOneOutSplit
from ..errors import ArgumentError, ConfigError, DataError, TemplateError
from . import templates as registry
from .negatives import RandomNegatives, RetrieverNegatives
from .requests import MOODS, REQUEST_KINDS, with_requests
from .templates import Template, candidate_labels
from .vocabulary import get_vocabulary

__all__ = ["ExampleConfig", "build_examples", "aspect_values", "fits", "intention_phrases", "preference_statement",
           "COLUMNS"]

logger = logging.getLogger(__name__)

COLUMNS = ("user", "stage", "target", "template", "task", "preference", "intention", "prompt", "completion",
           "candidates", "label", "history")



@dataclass
class ExampleConfig:
    """How to turn a split into instruction examples."""

    tasks: Mapping[str, float] = field(default_factory=lambda: {"matching": 1.0})  # task-form mix weights
    templates: Sequence[str] | None = None  # template names to draw from; None: every registered one
    vocabulary: str = "movie"
    num_candidates: int = 10  # reranking list size and eval candidates: target + negatives
    max_history_items: int = 10  # newest items shown; a token budget may cut further
    examples_per_user: int | None = 1  # train targets sampled per user; None: every train position
    liked_threshold: float = 4.0  # ratings >= this count as liked (P2 statements)
    disliked_threshold: float = 2.0  # ratings <= this count as disliked
    history_style: str = "quoted"  # how history items are joined (templates.format_history)
    # Train targets are the ends of consecutive windows of the train sequence (the last item
    # first) instead of random positions: with all-position training one example covers its
    # whole window, so windows that do not overlap cover the sequence once.
    windows: bool = False
    # Train histories only: the share of item positions preceded by a request the item satisfies
    # (requests.py), so that many positions per example learn to read an instruction.
    request_rate: float = 0.0
    request_kinds: Sequence[str] = REQUEST_KINDS
    # The share of train examples whose history carries requests; the others stay plain histories,
    # as a user who states nothing writes them.
    request_examples: float = 1.0
    seed: int = 42

    def __post_init__(self):
        self.tasks = dict(self.tasks)
        if not self.tasks:
            raise ConfigError("ExampleConfig.tasks: give at least one task form with a positive weight")
        for task, weight in self.tasks.items():
            if task not in registry.TASKS:
                raise ConfigError(f"ExampleConfig.tasks: unknown task form {task!r}; expected one of {registry.TASKS}")
            if not weight > 0:
                raise ConfigError(f"ExampleConfig.tasks: weight of {task!r} must be > 0, got {weight}")
        if self.templates is not None:
            self.templates = list(self.templates)
            for name in self.templates:
                registry.get_template(name)  # unknown names fail here, with suggestions
            missing = [t for t in self.tasks if not any(registry.get_template(n).task == t for n in self.templates)]
            if missing:
                raise ConfigError(f"ExampleConfig: no template given for task form(s) {missing}")
        get_vocabulary(self.vocabulary)
        if self.num_candidates < 2:
            raise ConfigError(f"ExampleConfig.num_candidates must be >= 2, got {self.num_candidates}")
        if self.max_history_items < 1:
            raise ConfigError(f"ExampleConfig.max_history_items must be >= 1, got {self.max_history_items}")
        if self.examples_per_user is not None and self.examples_per_user < 1:
            raise ConfigError(f"ExampleConfig.examples_per_user must be >= 1 or None, got {self.examples_per_user}")
        if self.disliked_threshold >= self.liked_threshold:
            raise ConfigError("ExampleConfig: disliked_threshold must be below liked_threshold")
        for key in ("request_rate", "request_examples"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ConfigError(f"ExampleConfig.{key} must be in [0, 1], got {getattr(self, key)}")
        self.request_kinds = list(self.request_kinds)
        unknown = [k for k in self.request_kinds if k not in REQUEST_KINDS]
        if unknown or not self.request_kinds:
            raise ConfigError(f"ExampleConfig.request_kinds: {unknown or 'none given'}; choose from {REQUEST_KINDS}")
        if self.history_style not in registry.HISTORY_STYLES:
            raise ConfigError(f"ExampleConfig.history_style: {self.history_style!r} is not one of "
                              f"{registry.HISTORY_STYLES}")

    def pool(self) -> dict[str, list[Template]]:
        """Templates available per task form of the mix."""
        chosen = [registry.get_template(n) for n in self.templates] if self.templates else registry.all()
        return {task: [t for t in chosen if t.task == task] for task in self.tasks}


def _article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def intention_phrases(categories: Sequence[str], noun: str, rng: np.random.Generator) -> dict[str, str]:
    """The I1 and I2 intentions for an item with these categories (empty dict without categories)."""
    if not categories:
        return {}
    one = categories[int(rng.integers(len(categories)))]
    return {"I2": _article(f"{', '.join(categories)} {noun}"),
            "I1": MOODS.get(one.lower(), f"something in the style of {one}")}


def preference_statement(categories_by_item: Sequence[Sequence[str]], ratings: Sequence[float] | None, nouns: str,
                         liked: float = 4.0, disliked: float = 2.0) -> str | None:
    """A first-person statement of taste from the history (P2), or ``None`` if nothing can be said.

    With ratings: the two categories most often rated >= ``liked`` and the one most often rated
    <= ``disliked`` (if it is not also liked). Without ratings: the two most frequent categories.
    """
    def top(counter: Counter, n: int) -> list[str]:
        # Ties broken by name, so the statement does not depend on dict order.
        return [c for c, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]

    if ratings is None:
        counts = Counter(c for cats in categories_by_item for c in cats)
        return f"I mostly enjoy {' and '.join(top(counts, 2))} {nouns}." if counts else None
    likes = Counter(c for cats, r in zip(categories_by_item, ratings) if r >= liked for c in cats)
    dislikes = Counter(c for cats, r in zip(categories_by_item, ratings) if r <= disliked for c in cats)
    liked_cats = top(likes, 2)
    disliked_cats = [c for c in top(dislikes, 2) if c not in liked_cats][:1]
    parts = []
    if liked_cats:
        parts.append(f"I like {' and '.join(liked_cats)} {nouns}.")
    if disliked_cats:
        parts.append(f"I dislike {disliked_cats[0]} {nouns}.")
    return " ".join(parts) or None


def aspect_values(catalog, history: Sequence[str], ratings: Sequence[float] | None, target: str, vocabulary,
                  rng: np.random.Generator, liked: float = 4.0, disliked: float = 2.0
                  ) -> tuple[dict[str, str], str | None]:
    """The target's intentions (``{"I1": ..., "I2": ...}``, empty without categories) and the
    history's preference statement (P2, or ``None``): the values every example and the
    per-template breakdown fill templates with."""
    intentions = intention_phrases(catalog.categories(target), vocabulary.noun, rng)
    preference = preference_statement([catalog.categories(i) for i in history], ratings, vocabulary.nouns, liked,
                                      disliked)
    return intentions, preference


def fits(template: Template, intentions: Mapping[str, str], preference: str | None, history: Sequence[str]) -> bool:
    """Whether ``template`` can be filled: I1/I2 need the target's categories, P2 a statement, P1 a history."""
    return ((template.intention == "I0" or template.intention in intentions)
            and (template.preference != "P2" or bool(preference)) and (template.preference != "P1" or bool(history)))


def build_examples(
    split: LeaveOneOutSplit,
    catalog: ItemCatalog,
    stage: str,
    config: ExampleConfig | None = None,
    *,
    count_tokens: Callable[[str], int] | None = None,
    max_prompt_tokens: int | None = None,
    users: Sequence[str] | None = None,
    retriever=None,
):
    """Build the instruction examples of ``stage`` ("train", "valid" or "test") as a Dataset.

    Negatives are random untouched items, or with ``retriever`` (a fitted baseline) its best
    untouched items after each example's history (``negatives.RetrieverNegatives``).
    """
    import datasets

    config = config or ExampleConfig()
    if stage not in ("train", "valid", "test"):
        raise ArgumentError(f"stage must be 'train', 'valid' or 'test', got {stage!r}")
    vocabulary = get_vocabulary(config.vocabulary)
    rng = np.random.default_rng([config.seed, ("train", "valid", "test").index(stage)])
    sampler = RandomNegatives(catalog.texts.keys(), rng) if retriever is None else RetrieverNegatives(retriever)
    pool = config.pool()
    tasks, weights = list(pool), np.array([config.tasks[t] for t in pool], dtype=float)
    weights /= weights.sum()
    if users is None:
        users = split.users if stage == "train" else split.evaluated

    rows: dict[str, list] = {c: [] for c in COLUMNS}
    skipped: Counter = Counter()
    pointwise_seen = 0
    for user in users:
        touched = split.touched(user)
        for history, target, ratings in _targets(split, user, stage, config, rng):
            task = tasks[int(rng.choice(len(tasks), p=weights))]
            intentions, preference = aspect_values(catalog, history, ratings, target, vocabulary, rng,
                                                   config.liked_threshold, config.disliked_threshold)
            feasible = [t for t in pool[task] if fits(t, intentions, preference, history)]
            if not feasible:
                skipped[task] += 1
                continue
            template = feasible[int(rng.integers(len(feasible)))]
            values = {"intention": intentions.get(template.intention, ""), "preference": preference or ""}
            if stage != "train" or task == "reranking":
                need = config.num_candidates - 1
            else:
                need = 0 if task == "matching" else 1
            negatives = sampler(user, history, touched, need) if need else []
            candidates, label = _task_values(task, target, negatives, catalog, rng, values, pointwise_seen, config)
            pointwise_seen += task == "pointwise"
            if task == "reranking":
                values["candidates_texts"] = [catalog.text(i) for i in candidates]
            if stage != "train" and task != "reranking":
                # Evaluation scores a candidate set whatever the form: the loo protocol's list.
                candidates = [target] + negatives[: config.num_candidates - 1]
                rng.shuffle(candidates)
            history_texts = [catalog.text(i) for i in history]
            if stage == "train" and config.request_rate and rng.random() < config.request_examples:
                history_texts = with_requests(history, history_texts, catalog, config.request_rate,
                                              config.request_kinds, vocabulary.noun, vocabulary.nouns, rng)
            try:
                rendered = template.render(
                    vocabulary=vocabulary, history=history_texts, candidates=values.pop("candidates_texts", ()),
                    count_tokens=count_tokens, max_prompt_tokens=max_prompt_tokens,
                    max_history_items=config.max_history_items, history_style=config.history_style, **values)
            except TemplateError as err:
                raise TemplateError(f"user {user!r}, target {target!r}: {err}") from None
            kept = history[len(history) - rendered.history_used:] if rendered.history_used else []
            for column, value in zip(COLUMNS, (
                    user, stage, target, template.name, task, template.preference, template.intention,
                    rendered.prompt, rendered.completion, list(candidates), label, list(kept))):
                rows[column].append(value)
    if skipped:
        logger.info("skipped %d %s examples whose target has no categories for any template of the mix",
                    sum(skipped.values()), stage)
    if not rows["user"]:
        raise DataError(f"no {stage} examples could be built: no user has a usable target for the template mix")
    features = datasets.Features({c: datasets.Value("string") for c in COLUMNS if c not in ("candidates", "history")}
                                 | {"candidates": datasets.Sequence(datasets.Value("string")),
                                    "history": datasets.Sequence(datasets.Value("string"))})
    return datasets.Dataset.from_dict(rows, features=features)


def _targets(split: LeaveOneOutSplit, user: str, stage: str, config: ExampleConfig, rng: np.random.Generator):
    """(history item ids, target id, history ratings) triples for one user and stage."""
    ratings = split.ratings[user] if split.ratings is not None else None
    if stage != "train":
        history = split.history(user, stage)
        yield history, split.target(user, stage), (ratings[: len(history)] if ratings else None)
        return
    sequence = split.train_sequence(user)
    if config.windows:
        # Newest window first; each target has the max_history_items items before it as history.
        positions = np.arange(len(sequence) - 1, 0, -config.max_history_items - 1)[:config.examples_per_user]
        positions = np.sort(positions)
    else:
        positions = np.arange(1, len(sequence))  # a train target needs one earlier item as history
    if not config.windows and config.examples_per_user is not None and len(positions) > config.examples_per_user:
        positions = np.sort(rng.choice(positions, size=config.examples_per_user, replace=False))
    for pos in positions:
        yield sequence[:pos], sequence[pos], (ratings[:pos] if ratings else None)


def _task_values(task, target, negatives, catalog, rng, values, pointwise_seen, config):
    """Fill the task form's placeholders; returns (candidate ids, label)."""
    if task == "pointwise":
        positive = pointwise_seen % 2 == 0
        item = target if positive else negatives[0]
        values.update(item=catalog.text(item), answer="Yes" if positive else "No")
        return [item], values["answer"]
    if task == "pairwise":
        pair = [target, negatives[0]]
        rng.shuffle(pair)
        values.update(item_a=catalog.text(pair[0]), item_b=catalog.text(pair[1]), choice=catalog.text(target))
        return pair, catalog.text(target)
    if task == "reranking":
        candidates = [target] + negatives[: config.num_candidates - 1]
        rng.shuffle(candidates)
        label = candidate_labels(len(candidates))[candidates.index(target)]
        values.update(target=catalog.text(target), label=label)
        return candidates, label
    values.update(target=catalog.text(target))
    return [], catalog.text(target)
