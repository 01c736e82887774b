"""Cold items through the item-token rows (the ``cold`` section of ``recipes/bench_following.py``).

An item that arrives after tuning gets its token from its text (``Recommender.add_items``: the
mean embedding of its title and of its category names, as tuning initialises every row). This
measures whether such items can be recommended, above all when the user names their category:

1. :func:`cold_start.cold_start_split` makes 20% of the distinct test targets cold;
2. an adapter is tuned with the demo's config on the log without those items at all (their rows
   in the interaction file and the catalogue are left out, so the adapter has no token for them;
   the cold users' histories lose nothing but the cold item itself);
3. the adapter gets tokens for the cold items through ``add_items`` and ranks the whole catalogue
   for the users whose test item is cold, without and with the target's I2 intention; the warm
   users are ranked with and without the new rows, to see whether the rows take their places.

Popularity and BPR-MF score a cold item 0 by construction (no train interaction), and ties count
against the target, so they are not rows here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instructrec_peft.config import parse_config
from instructrec_peft.data.split import LeaveOneOutSplit
from instructrec_peft.errors import DataError
from instructrec_peft.evaluation.cold_start import cold_start_split
from instructrec_peft.evaluation.following import full_ranks, intention_requests
from instructrec_peft.files import write_text_atomic
from instructrec_peft.inference.recommender import Recommender
from instructrec_peft.models.workspace import load_log
from instructrec_peft.run_dir import RunDir

__all__ = ["COLD_SHARE", "write_warm_dataset", "run_cold"]

COLD_SHARE = 0.2


def write_warm_dataset(log, cold: set[str], folder: Path) -> Path:
    """The log and catalogue without the ``cold`` items, as a RecBole dataset folder; every file is
    written whole (``write_text_atomic``) and read back to check its texts and categories."""
    name = folder.name
    folder.mkdir(parents=True, exist_ok=True)
    inter = log.interactions[~log.interactions["item_id"].isin(cold)]
    items = log.catalog.frame[~log.catalog.frame.index.isin(list(cold))]
    for frame in (inter, items.reset_index()):
        for column in frame.columns:
            if frame[column].dtype == object and frame[column].astype(str).str.contains("[\t\n]").any():
                raise DataError(f"column {column!r} holds a tab or a newline; it cannot be written as an atomic file")
    types = {c: ("float" if inter[c].dtype.kind == "f" else "token") for c in inter.columns}
    write_text_atomic(folder / f"{name}.inter", _atomic(inter, types))
    write_text_atomic(folder / f"{name}.item", _atomic(items.reset_index(), {c: "token_seq" for c in
                                                                             ["item_id", *items.columns]}))
    return folder


def _atomic(frame, types: dict[str, str]) -> str:
    header = "\t".join(f"{c}:{types[c]}" for c in frame.columns)
    rows = ("\t".join("" if v != v else (repr(v) if isinstance(v, float) else str(v)) for v in row)
            for row in frame.itertuples(index=False))
    return header + "\n" + "\n".join(rows) + "\n"


def tune_warm_adapter(config: list[str], adapter: Path, log, cold: set[str], smoke: bool) -> None:
    """Tune ``config`` (a config file and overrides) on the log without the cold items into ``adapter``."""
    from instructrec_peft.training.tuning import run_tuning

    data = write_warm_dataset(log, cold, adapter.parent / f"{adapter.name}-data" / "warm")
    overrides = ["--dataset", str(data), "--output_dir", str(adapter)] + (["--max_steps", "2"] if smoke else [])
    model_args, data_args, train_args = parse_config(config + overrides)
    warm = load_log(data_args)
    missing = [i for i in warm.catalog.texts if warm.catalog.text(i) != log.catalog.text(i)
               or warm.catalog.categories(i) != log.catalog.categories(i)]
    if missing or len(warm.catalog) != len(log.catalog) - len(cold):
        raise DataError(f"{data}: the written catalogue does not read back as written (item {missing[:1]})")
    run_tuning(model_args, data_args, train_args)


def run_cold(config: list[str], adapter: Path, seed: int = 42, smoke: bool = False) -> dict:
    """Tune (when ``adapter`` has none) and measure; the section's JSON."""
    _, data_args, _ = parse_config(config)
    log = load_log(data_args)
    split, cold = cold_start_split(log, share=COLD_SHARE, seed=seed, min_interactions=data_args.min_interactions)
    if not RunDir(adapter).has_adapter():
        tune_warm_adapter(config, adapter, log, cold, smoke)
    rec = Recommender.from_pretrained(str(adapter))
    if any(i in rec.item_tokens for i in cold):
        raise DataError(f"{adapter}: its item map has tokens for cold items; it was not tuned without them")
    new = sorted(cold, key=lambda i: (len(i), i))
    rec.add_items(new, [log.catalog.text(i) for i in new], [log.catalog.categories(i) for i in new])
    items = list(rec.item_tokens.items)
    users = [u for u in split.evaluated if log.catalog.categories(split.target(u, "test"))]
    cold_users = [u for u in users if split.target(u, "test") in cold]
    warm_users = [u for u in users if split.target(u, "test") not in cold]
    if smoke:
        cold_users, warm_users = cold_users[:12], warm_users[:12]
    out = {"cold items": len(cold), "users": {"cold": cold_users, "warm": warm_users}, "cold": {}, "warm": {}}
    requests = intention_requests(split, log.catalog, cold_users, seed=seed)
    out["cold"]["no intention"] = _ranks(rec, split, items, [{"history": r.history} for r in requests], requests)
    out["cold"]["I2 intention"] = _ranks(rec, split, items, [r.ask("I2") for r in requests], requests)
    out["cold"]["I1 intention"] = _ranks(rec, split, items, [r.ask("I1") for r in requests], requests)
    out["examples"] = [r.wordings["I2"] for r in requests[:3]]
    warm = intention_requests(split, log.catalog, warm_users, seed=seed)
    scores = rec.item_score_matrix([{"history": r.history} for r in warm], progress=True)
    out["warm"]["with the new rows"] = full_ranks(scores, items, [(r.user, r.target) for r in warm], split)
    columns = [n for n, i in enumerate(items) if i in cold]
    scores[:, columns] = -np.inf
    out["warm"]["without them"] = full_ranks(scores, items, [(r.user, r.target) for r in warm], split)
    return out


def _ranks(rec, split: LeaveOneOutSplit, items: list[str], asks: list[dict], requests) -> list[int]:
    scores = rec.item_score_matrix(asks, progress=True)
    return full_ranks(scores, items, [(r.user, r.target) for r in requests], split)
