"""What a config names, built once: the tokenizer and prompt encoder of ``ModelArguments``, and of
:class:`DataArguments` the interaction log, its split, the catalogue as prompts show it (texts or
item tokens), the example settings and the rows of a stage. Tuning, the protocols, the
benchmarks and the recipes all start from a :class:`Workspace`.

>>> ws = Workspace(data_args, seed=42, model_args=model_args)   # doctest: +SKIP
>>> rows = ws.rows("test", users=100)                            # doctest: +SKIP
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Sequence

from ..config import DataArguments
from ..data.interactions import ColumnMap, InteractionLog, ItemCatalog
from ..data.split import LeaveOneOutSplit, leave_one_out
from ..errors import ArgumentError, MissingFileError
from ..instructions.examples import ExampleConfig, build_examples
from ..instructions.templates import get_template

__all__ = ["Workspace", "load_log", "example_config", "shown_catalog", "eval_rows", "train_rows"]


def load_log(args: DataArguments) -> InteractionLog:
    """The interaction log named by ``args.dataset`` ("ml-100k", "ml-1m", a RecBole directory, or a file),
    restricted to the domain ``args.item_categories`` if set, then to its k-core if
    ``min_user_interactions`` or ``min_item_interactions`` are."""
    log = _read_log(args)
    if args.item_categories:
        from ..data.domains import restrict_to_categories

        log = restrict_to_categories(log, args.item_categories)
    if args.min_user_interactions or args.min_item_interactions:
        from ..data.k_core import k_core

        log = k_core(log, args.min_user_interactions, args.min_item_interactions)
    return log


def _read_log(args: DataArguments) -> InteractionLog:
    if args.data_preset:
        from ..data.presets import load_preset

        return load_preset(args.data_preset, Path(args.dataset).expanduser(), category_path=args.category_path,
                           max_text_chars=args.max_item_text_chars)
    from ..data.assets import DATASETS, fetch_data

    if args.dataset in DATASETS:
        # A fetched dataset is read in its own layout (its text and category columns).
        asset = DATASETS[args.dataset]
        return InteractionLog.from_recbole(fetch_data(dataset=asset.name), text_fields=asset.text_fields,
                                           category_field=asset.category_field)
    path = Path(args.dataset).expanduser()
    if path.is_dir():
        return InteractionLog.from_recbole(path, text_fields=tuple(args.item_text_fields),
                                           category_field=args.category_field)
    if not path.is_file():
        raise MissingFileError(f"DataArguments.dataset: {path} is neither a fetched dataset ({', '.join(DATASETS)}), "
                               "a directory nor a file")
    if not args.items_file:
        raise ArgumentError("DataArguments.items_file: an interactions file needs an item metadata file for item text")
    catalog = ItemCatalog.load(args.items_file, id_column=args.item_id_column,
                               text_fields=tuple(args.item_text_fields),
                               category_field=args.category_field, category_sep=args.category_sep,
                               category_path=args.category_path, max_text_chars=args.max_item_text_chars)
    columns = ColumnMap(user=args.user_column, item=args.item_column, time=args.time_column, rating=args.rating_column,
                        time_unit=args.time_unit)
    return InteractionLog.load(path, columns=columns, format=args.data_format, catalog=catalog)


def example_config(args: DataArguments, seed: int, eval_only: bool = False) -> ExampleConfig:
    # Item tokens delimit themselves: a history of bare tokens is joined without quotes or commas.
    style = "joined" if args.item_tokens and args.item_text == "tokens" else "quoted"
    if eval_only:
        return ExampleConfig(tasks={get_template(args.eval_template).task: 1.0}, templates=[args.eval_template],
                             vocabulary=args.vocabulary, num_candidates=args.num_candidates,
                             max_history_items=args.max_history_items, history_style=style, seed=seed)
    templates = args.templates
    if args.item_tokens and templates is None:
        # An item-token answer is the item's token: the templates that answer with the item.
        from ..instructions.templates import all as all_templates

        templates = [t.name for t in all_templates()
                     if t.task in args.task_mix_weights and t.response_field == "target"]
    return ExampleConfig(tasks=args.task_mix_weights, templates=templates, vocabulary=args.vocabulary,
                         num_candidates=args.num_candidates, max_history_items=args.max_history_items,
                         examples_per_user=args.examples_per_user or None, history_style=style,
                         windows=args.item_tokens and args.all_positions, request_rate=args.request_rate,
                         request_examples=args.request_examples, request_kinds=args.request_kinds, seed=seed)


def shown_catalog(log: InteractionLog, args: DataArguments, item_tokens=None):
    """The catalogue as prompts show it: item texts, or item tokens (``item_tokens.TokenCatalog``)."""
    if not args.item_tokens:
        return log.catalog
    if item_tokens is None:
        raise ArgumentError("DataArguments.item_tokens is on: pass the item-token map (item_tokens.add_item_tokens)")
    from ..instructions.item_tokens import TokenCatalog

    return TokenCatalog(log.catalog, item_tokens, args.item_text)


def eval_rows(split: LeaveOneOutSplit, log: InteractionLog, args: DataArguments, encoder, seed: int, stage: str,
              users: int | Sequence[str] = 0, item_tokens=None, retriever=None):
    """Ranking rows of ``stage`` with the evaluation template, for the first ``users`` evaluated
    users (0: all) or for the users listed; negatives from ``retriever`` if given, else random."""
    if isinstance(users, int):
        users = split.evaluated[:users] if users else split.evaluated
    config = example_config(args, seed, eval_only=True)
    return build_examples(split, shown_catalog(log, args, item_tokens), stage, config,
                          count_tokens=encoder.count_tokens, max_prompt_tokens=args.max_prompt_tokens, users=users,
                          retriever=retriever)


def train_rows(split: LeaveOneOutSplit, log: InteractionLog, args: DataArguments, encoder, seed: int,
               users: Sequence[str] | None = None, item_tokens=None, retriever=None):
    """The shuffled training examples of the task mix (of ``users`` only, if given), capped at
    ``max_train_examples``; negatives from ``retriever`` if given, else random."""
    train = build_examples(split, shown_catalog(log, args, item_tokens), "train", example_config(args, seed),
                           count_tokens=encoder.count_tokens, max_prompt_tokens=args.max_prompt_tokens, users=users,
                           retriever=retriever)
    train = train.shuffle(seed=seed)
    if args.max_train_examples:
        train = train.select(range(min(args.max_train_examples, len(train))))
    return train


class Workspace:
    """A config's tokenizer, encoder, log and split, each built on first use and then kept.

    ``encoder`` or ``log`` may be given when the caller already has them (an encoder from an
    adapter's manifest, a log restricted elsewhere); ``model_args`` is needed only for the tokenizer.
    """

    def __init__(self, data_args: DataArguments, seed: int = 42, model_args=None, *, encoder=None,
                 log: InteractionLog | None = None, split: LeaveOneOutSplit | None = None):
        self.data_args, self.seed, self.model_args = data_args, seed, model_args
        # cached_property reads the instance dict first: given values are simply pre-filled.
        if encoder is not None:
            self.__dict__["encoder"] = encoder
        if log is not None:
            self.__dict__["log"] = log
        if split is not None:
            if log is None:
                raise ArgumentError("Workspace: a split comes with the log it was made from (pass log= too)")
            self.__dict__["split"] = split

    @cached_property
    def tokenizer(self):
        if self.model_args is None:
            raise ArgumentError("Workspace: no model_args, so no tokenizer to load")
        from .loading import load_tokenizer

        return load_tokenizer(self.model_args)

    @cached_property
    def encoder(self):
        from ..instructions.tokenization import PromptEncoder

        return PromptEncoder.for_settings(self.tokenizer, self.data_args)

    @cached_property
    def log(self) -> InteractionLog:
        return load_log(self.data_args)

    @cached_property
    def split(self) -> LeaveOneOutSplit:
        return leave_one_out(self.log, min_interactions=self.data_args.min_interactions)

    def rows(self, stage: str, users: int | Sequence[str] = 0, *, item_tokens=None, retriever=None):
        """:func:`eval_rows` of this workspace."""
        return eval_rows(self.split, self.log, self.data_args, self.encoder, self.seed, stage, users,
                         item_tokens=item_tokens, retriever=retriever)

    def train_rows(self, users: Sequence[str] | None = None, *, item_tokens=None, retriever=None):
        """:func:`train_rows` of this workspace."""
        return train_rows(self.split, self.log, self.data_args, self.encoder, self.seed, users,
                          item_tokens=item_tokens, retriever=retriever)
