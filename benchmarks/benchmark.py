"""The benchmark report's machinery (``recipes/benchmark.py`` runs it): LM recommenders against
real baselines on ML-100K, all 943 test users.

Sections, each stored in ``reports/benchmark.json`` as soon as it finishes (per-user ranks, so
intervals are computed at render time; :class:`report_store.SectionStore`) and re-rendered into
the report:

* ``baselines``: popularity, BPR-MF, SASRec on ``loo-random-10`` and ``full``; this SASRec keeps
  torch's default initialisation, as the report was first measured, and is the rerank-top20 retriever;
* ``sasrec-init``: SASRec as published (weights N(0, 0.02), the library's default), far stronger:
  the reference of the ``loo-random-10`` and ``full`` differences;
* ``items-zero-shot``: the base LM with item tokens initialised from titles, untuned;
* ``items-bpr``, ``items-text``, ``items-i2``: item-token LMs (``recipes/configs/items-cpu.yaml``,
  the demo's 2 epochs): title + BPR initialisation, title only, and title + BPR tuned and evaluated
  with specific intentions (I2); ``items-bpr-3ep``: the first with 3 epochs. Each is tuned in its
  own process (its own peak memory), with the validation NDCG@10 of 100 users every 30 steps for
  the learning curve; ``rerank-top20`` (SASRec's top 20 reordered) comes from the same scores;
* ``text-lora``, ``text-zero-shot``: the text-only method (titles scored by likelihood,
  ``recipes/configs/demo-cpu.yaml``, 50 steps of 8 examples, 4-bit) on ``loo-random-10``;
* ``text-rerank``: a LlamaRec-style listwise reranker (``recipes/configs/rerank-cpu.yaml``): the
  prompt lists SASRec's top 20 as labelled titles, trained on SASRec's own top 20 of train
  positions (hard negatives), scored by each label's first token on ``rerank-top20``;
* ``scale``: a synthetic catalogue of 10^5 items: adding the tokens, memory, scoring time.

Every row covers the same test users and candidates; intervals are 95% bootstrap over users, and
differences to SASRec are paired (the same users resampled for both). About 2 hours on 2 CPU cores
(133 minutes, the sections run one by one: each of those refits SASRec for rerank-top20).
"""

from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from instructrec_peft._version import __version__
from instructrec_peft.config import parse_config
from instructrec_peft.evaluation.baselines import fit_baseline, full_ranking_ranks
from instructrec_peft.evaluation.metrics.bootstrap import per_user
from instructrec_peft.evaluation.metrics.formulas import ranking_metrics, target_ranks
from instructrec_peft.evaluation.protocols import protocol_rows, rerank_item_ranks, rerank_listed_ranks, run_item_lm
from instructrec_peft.files import write_text_atomic
from instructrec_peft.inference.candidates import rank_rows
from instructrec_peft.instructions.tokenization import PromptEncoder
from instructrec_peft.models.builder import base_model
from instructrec_peft.models.loading import item_tokens_of, load_adapter, load_base_model, load_tokenizer
from instructrec_peft.models.workspace import Workspace, eval_rows
from instructrec_peft.training.item_space import run_item_space

from .plots import curve_panels, metric_bars
from .report_store import SectionStore
from .runs import measured_tuning, run_measured
from .tables import metric_table, ranks_of


@dataclass(frozen=True)
class BenchPaths:
    """A checkout's configs and tuning recipe, where runs go, and the script re-run for the scale probe."""

    root: Path
    script: Path

    @property
    def items(self) -> Path:
        return self.root / "recipes" / "configs" / "items-cpu.yaml"

    @property
    def text(self) -> Path:
        return self.root / "recipes" / "configs" / "demo-cpu.yaml"

    @property
    def rerank(self) -> Path:
        return self.root / "recipes" / "configs" / "rerank-cpu.yaml"

    @property
    def ml1m(self) -> Path:
        return self.root / "recipes" / "configs" / "items-ml1m.yaml"

    @property
    def tune(self) -> Path:
        return self.root / "recipes" / "tune.py"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

KS = (1, 3, 5, 10)
ITEM_VARIANTS = {  # section -> (row name, overrides of items-cpu.yaml)
    "items-bpr": ("item-token LM, title + BPR init", []),
    "items-text": ("item-token LM, title init", ["--item_token_init", "text"]),
    "items-i2": ("item-token LM, title + BPR init, I2 intentions",
                 ["--templates", "p1-i0-matching-5", "p1-i2-matching-3", "--eval_template", "p1-i2-matching-3"]),
    "items-bpr-3ep": ("item-token LM, title + BPR init, 3 epochs", ["--num_train_epochs", "3"]),
}
SECTIONS = ("baselines", "items-zero-shot", "items-bpr", "items-text", "scale", "items-i2", "text-lora",
            "items-bpr-3ep", "text-zero-shot", "text-rerank", "sasrec-init")
SASREC_PUBLISHED = "SASRec, published init (N(0, 0.02))"
SASREC_DEFAULT = "SASRec, torch's default init"  # the stored "SASRec" row, as the tables name it
ZERO_SHOT_ITEMS = "SmolLM2-135M zero-shot, item tokens from titles"


class Context:
    """What every section shares: the protocol rows of all test users, the split, the baselines."""

    def __init__(self, smoke: bool, paths: BenchPaths):
        self.smoke, self.paths = smoke, paths
        self.model_args, self.data_args, self.train_args = parse_config([str(paths.items)])
        self.seed = self.train_args.seed
        self.encoder = Workspace(self.data_args, self.seed, self.model_args).encoder
        self.data = protocol_rows("loo-random-10", self.data_args, self.encoder, seed=self.seed,
                                  users=8 if smoke else 0)
        self.users = list(self.data.rows["user"])
        self.items = list(self.data.log.catalog.texts)
        self._sasrec = None

    @property
    def sasrec(self):
        """The ``SASRec`` row and the retriever of rerank-top20, as this report first measured them: with
        torch's default initialisation (item rows N(0, 1)), which leaves SASRec well short of what it
        reaches; the ``sasrec-init`` section adds SASRec as published (N(0, 0.02)), the reference of
        the loo-random-10 and full tables. Kept so that the rerank rows and their retriever match."""
        if self._sasrec is None:
            self._sasrec = fit_baseline("sasrec", self.data.split, self.items, seed=self.seed, init_std=None,
                                        **self.sasrec_smoke)
        return self._sasrec

    @property
    def sasrec_smoke(self) -> dict:
        return {"epochs": 2, "eval_every": 1} if self.smoke else {}


def _baseline_row(ctx: Context, model, seconds: float) -> dict:
    """A fitted baseline's ranks of every test user's target: loo-random-10 and full ranking."""
    return {"users": ctx.users, "loo": ranks_of(target_ranks(*model.rank_rows(ctx.data.rows))),
            "full": ranks_of(full_ranking_ranks(model, ctx.data.split, users=ctx.users)), "fit seconds": seconds}


def run_baselines(ctx: Context) -> dict:
    out = {"rows": {}}
    split = ctx.data.split
    models = {}
    for name, fit in (("popularity", lambda: fit_baseline("popularity", split, ctx.items)),
                      ("BPR-MF", lambda: fit_baseline("bpr", split, ctx.items, seed=ctx.seed,
                                                      **({"epochs": 1} if ctx.smoke else {}))),
                      ("SASRec", lambda: ctx.sasrec)):
        start = time.perf_counter()
        model = models[name] = fit()
        seconds = time.perf_counter() - start
        out["rows"][name] = _baseline_row(ctx, model, seconds)
    # rerank-top20: SASRec's own order of its top 20 is the reference the rerankers reorder.
    retrieved = [ctx.sasrec.top_k(split, u, 20) for u in ctx.users]
    out["rows"]["SASRec"]["rerank"] = ranks_of([top.index(t) + 1 if t in top else np.inf
                                             for top, t in zip(retrieved, ctx.data.rows["target"])])
    out["sasrec_curve"] = {str(k): v for k, v in ctx.sasrec.history.items()}
    # Validation loo-random-10 of the LM curves' 100 users: the baselines' level on the same rows.
    valid = eval_rows(split, ctx.data.log, replace(ctx.data_args, item_tokens=False), ctx.encoder, ctx.seed, "valid",
                      8 if ctx.smoke else 100)
    out["valid_ndcg@10"] = {name: ranking_metrics(target_ranks(*models[name].rank_rows(valid, "valid")),
                                                  KS)["ndcg@10"] for name in ("BPR-MF", "SASRec")}
    return out


def run_sasrec_init(ctx: Context) -> dict:
    """SASRec with its published initialisation (every weight N(0, 0.02)): the library's default."""
    start = time.perf_counter()
    model = fit_baseline("sasrec", ctx.data.split, ctx.items, seed=ctx.seed, **ctx.sasrec_smoke)
    row = _baseline_row(ctx, model, time.perf_counter() - start)
    return {"rows": {SASREC_PUBLISHED: row}, "sasrec_curve": {str(k): v for k, v in model.history.items()}}


def run_items_zero_shot(ctx: Context) -> dict:
    tokenizer = load_tokenizer(ctx.model_args)
    space = run_item_space(replace(ctx.data_args, item_token_init="text"), tokenizer, ctx.data.log, ctx.data.split,
                           ctx.seed)
    model, tokens = base_model(ctx.model_args, space, tokenizer), space.tokens
    encoder = PromptEncoder.for_settings(tokenizer, ctx.data_args)
    start = time.perf_counter()
    ranked = run_item_lm(model, encoder, ctx.data_args, tokens, ctx.data, seed=ctx.seed)
    return {"rows": {ZERO_SHOT_ITEMS: {"users": ranked.users, "loo": ranks_of(ranked.loo),
                                       "full": ranks_of(ranked.full), "eval seconds": time.perf_counter() - start}}}


def _tune(ctx: Context, name: str, config: Path, overrides: list[str]) -> tuple[Path, list[str], dict]:
    out = ctx.paths.outputs / f"{'smoke' if ctx.smoke else 'bench'}-{name}"
    # The report's rows were measured in fp32; its runs stay so, comparable with each other (bf16
    # against fp32 is measured in reports/throughput.md and the README's precision section).
    argv = [str(config), "--output_dir", str(out), "--precision", "fp32", *overrides]
    if ctx.smoke:
        argv += ["--max_steps", "2", "--eval_steps", "1", "--eval_users", "2"]
    perf, state = measured_tuning(ctx.paths.tune, argv, out)
    per_step = perf["train seconds"] / max(1, perf["steps"])
    perf["curve"] = {str(round(e["step"] * per_step)): e["eval_ndcg@10"] for e in state["log_history"]
                     if "eval_ndcg@10" in e}
    return out, argv, perf


def run_item_variant(ctx: Context, section: str) -> dict:
    row, overrides = ITEM_VARIANTS[section]
    out, argv, perf = _tune(ctx, section, ctx.paths.items, ["--eval_strategy", "steps", "--eval_steps", "30",
                                                            "--eval_users", "100", *overrides])
    model_args, data_args, _ = parse_config(argv)
    tokens = item_tokens_of(out)
    model = load_adapter(str(out), model_args=model_args)
    encoder = PromptEncoder.for_settings(load_tokenizer(replace(model_args, model_name_or_path=str(out))), data_args)
    start = time.perf_counter()
    ranked = run_item_lm(model, encoder, data_args, tokens, ctx.data, seed=ctx.seed)
    seconds = time.perf_counter() - start
    retrieved, reranked = rerank_item_ranks(ranked, tokens, ctx.data, ctx.sasrec, 20)
    return {"rows": {row: {"users": ranked.users, "loo": ranks_of(ranked.loo), "full": ranks_of(ranked.full),
                           "rerank": ranks_of(reranked), "eval seconds": seconds, **perf}}}


def run_text(ctx: Context, section: str) -> dict:
    model_args, data_args, train_args = parse_config([str(ctx.paths.text)])
    encoder = Workspace(data_args, ctx.seed, model_args).encoder
    data = protocol_rows("loo-random-10", data_args, encoder, seed=ctx.seed, users=8 if ctx.smoke else 0)
    if [r["candidates"] for r in data.rows] != [r["candidates"] for r in ctx.data.rows]:
        raise SystemExit("the text rows' candidates differ from the baselines'; the rows would not be paired")
    perf = {}
    if section == "text-lora":
        out, argv, perf = _tune(ctx, section, ctx.paths.text, [])
        model, row = load_adapter(str(out), model_args=parse_config(argv)[0]), "text-only LM, 4-bit LoRA (titles)"
    else:
        model, row = load_base_model(replace(model_args, quantization="none")), "SmolLM2-135M zero-shot, titles"
    start = time.perf_counter()
    scores, targets = rank_rows(model, encoder, data.rows, data.log.catalog)
    return {"rows": {row: {"users": list(data.rows["user"]), "loo": ranks_of(target_ranks(scores, targets)),
                           "eval seconds": time.perf_counter() - start, **perf}}}


def run_text_rerank(ctx: Context) -> dict:
    out, argv, perf = _tune(ctx, "text-rerank", ctx.paths.rerank, [])
    model_args, data_args, _ = parse_config(argv)
    model = load_adapter(str(out), model_args=model_args)
    encoder = Workspace(data_args, ctx.seed, model_args).encoder
    start = time.perf_counter()
    retrieved, reranked = rerank_listed_ranks(model, encoder, ctx.data, data_args, ctx.sasrec, 20, seed=ctx.seed)
    return {"rows": {"text-only listwise reranker, SASRec hard negatives": {
        "users": ctx.users, "rerank": ranks_of(reranked), "eval seconds": time.perf_counter() - start, **perf}}}


def run_scale(ctx: Context) -> dict:
    results = {}
    for n in ((2_000,) if ctx.smoke else (10_000, 100_000)):
        path = ctx.paths.outputs / f"scale-{n}.json"
        run = run_measured([sys.executable, str(ctx.paths.script), "--scale-child", str(n)])
        results[str(n)] = {**json.loads(path.read_text()), "peak RSS MB": run.peak_rss_mb}
    return {"scale": results}


def scale_child(n: int, paths: BenchPaths) -> None:
    """Add ``n`` item tokens to the demo model, wrap it with LoRA + trainable tokens, score 16 users."""
    from instructrec_peft.inference.item_scoring import item_scores
    from instructrec_peft.instructions.item_tokens import add_item_tokens, resize_for_items
    from instructrec_peft.models.item_rows import text_means
    from instructrec_peft.models.loading import wrap_model

    model_args, data_args, _ = parse_config([str(paths.items)])
    tokenizer = load_tokenizer(model_args)
    timings = {}
    start = time.perf_counter()
    tokens = add_item_tokens(tokenizer, [str(i) for i in range(n)], [f"Item {i} (synthetic)" for i in range(n)])
    timings["add tokens s"] = time.perf_counter() - start
    model = load_base_model(model_args)
    start = time.perf_counter()
    rows = text_means(model, tokenizer, tokens.texts)
    resize_for_items(model, tokens)
    model.get_input_embeddings().weight.data[tokens.first_id:] = rows
    timings["resize + init s"] = time.perf_counter() - start
    model = wrap_model(model, model_args, trainable_tokens=list(tokens.id_range))
    encoder = PromptEncoder.for_settings(tokenizer, data_args)
    rng = np.random.default_rng(0)
    histories = ["".join(tokens.token(str(i)) for i in rng.integers(n, size=50)) for _ in range(16)]
    prompts = encoder.prompt_ids([f"The movies a user watched, in order: {history}" for history in histories])
    item_scores(model, prompts[:2], tokens.id_range)  # warm-up
    start = time.perf_counter()
    scores = item_scores(model, prompts, tokens.id_range, batch_size=16)
    timings["score 16 users s"] = time.perf_counter() - start
    timings["trainable parameters"] = model.get_nb_trainable_parameters()[0]
    timings["scores shape"] = list(scores.shape)
    write_text_atomic(paths.outputs / f"scale-{n}.json", json.dumps(timings))


# ---- the report --------------------------------------------------------------------------------------

def _with(protocol: str, sections: dict) -> dict:
    rows = {name: row for section in sections.values() for name, row in section.get("rows", {}).items()
            if row.get(protocol)}
    if protocol == "rerank":  # only SASRec (the retriever) and the LMs that reorder its top 20
        rows = {name: row for name, row in rows.items() if name not in ("popularity", "BPR-MF")}
    return rows


def _listwise_note(sasrec: dict, section: dict) -> str:
    """What the listwise reranker's rerank-top20 row means: against a random reordering of the same
    20 items (the target's position uniform among them) and against its own training loss."""
    retrieved = np.array([r is not None for r in sasrec["rerank"]]).mean()
    per_hit = sum(1 / np.log2(k + 1) for k in range(1, 11)) / 20
    (name, row), = section["rows"].items()
    ranks = np.array([np.inf if r is None else r for r in row["rerank"]], dtype=np.float64)
    losses = list(row["loss"].values())
    tail = losses[len(losses) // 4:]
    return (f"The {name} (`recipes/configs/rerank-cpu.yaml`) against chance: SASRec retrieves the target for "
            f"{retrieved:.1%} of users, so a random reordering of its 20 would give HR@1 {retrieved / 20:.3f} and "
            f"NDCG@10 {retrieved * per_hit:.3f}; the reranker gives {per_user(ranks, 'hr@1').mean():.3f} and "
            f"{per_user(ranks, 'ndcg@10').mean():.3f}. Its training loss (mean over the label token and the "
            f"end-of-answer token) stays at {min(tail):.2f}-{max(tail):.2f} nats over the last three quarters of "
            f"its {row['steps']} steps, against {np.log(20) / 2:.2f} for a model that learned the answer's format "
            "but not which of the 20 labels is right.")


def render(store: dict, report: Path) -> str:
    """The Markdown of the stored sections (and their PNG plots beside ``report``)."""
    sections = {name: store[name] for name in SECTIONS if name in store}
    sasrec = sections.get("baselines", {}).get("rows", {}).get("SASRec")
    minutes = sum(s["minutes"] for s in sections.values())
    lines = ["# Benchmark: SmolLM2-135M recommenders vs baselines on ML-100K", "",
             f"Generated by `python recipes/benchmark.py` (sections: {', '.join(sections)}; "
             f"{minutes:.0f} min in all). {store['machine']}. Chronological leave-one-out "
             f"split; seed {store['seed']}; every test user. Intervals: 95% bootstrap over users; \"- SASRec\" is "
             "the paired difference (the same users resampled for both), so an interval that excludes 0 is a "
             "difference beyond noise. Missing sections have not been run yet.", ""]
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        lines += [f"Not run yet: {', '.join(missing)}.", ""]
    for protocol, title, metrics in (
            ("loo-random-10", "loo-random-10 (target + 9 never-touched items; the same candidates for every row)",
             ("hr@1", "ndcg@3", "ndcg@10")),
            ("full", "full ranking (every item the user has not touched)", ("hr@10", "ndcg@10")),
            ("rerank", "rerank-top20 (SASRec's top 20, reordered; a target outside them is a miss)",
             ("hr@1", "ndcg@10"))):
        key = "loo" if protocol == "loo-random-10" else protocol
        rows = {SASREC_DEFAULT if name == "SASRec" else name: row for name, row in _with(key, sections).items()}
        # Differences are to the stronger, published SASRec where it was run; on rerank-top20, to the
        # retriever whose top 20 the rows reorder.
        reference = SASREC_PUBLISHED if key != "rerank" and SASREC_PUBLISHED in rows else SASREC_DEFAULT
        if rows:
            lines += [f"## {title}", "", metric_table(rows, key, reference, metrics), ""]
        if key == "rerank" and sasrec and "text-rerank" in sections:
            lines += [_listwise_note(sasrec, sections["text-rerank"]), ""]
    perf = {name: row for name, row in (_with("loo", sections) | _with("rerank", sections)).items()
            if "train seconds" in row}
    if perf:
        lines += ["## Training (each tuning run in its own process)", "",
                  "Tokens are the non-padding tokens trained on; train seconds include the periodic validation of the "
                  "item-token runs (100 users every 30 steps); peak RSS is the tuning process's own.", "",
                  "| system | steps | train seconds | tokens | tokens/s | peak RSS MB | evaluation seconds |",
                  "|---|---|---|---|---|---|---|",
                  *[f"| {k} | {v['steps']} | {v['train seconds']:.0f} | {v['tokens']} | {v['tokens/s']:.0f} | "
                    f"{v['peak RSS MB']:.0f} | {v['eval seconds']:.0f} |" for k, v in perf.items()], ""]
    baselines = sections.get("baselines")
    if baselines:
        fits = {**baselines["rows"], **sections.get("sasrec-init", {}).get("rows", {})}
        lines += ["Baseline fits: " + ", ".join(f"{SASREC_DEFAULT if k == 'SASRec' else k} {v['fit seconds']:.0f} s"
                                                for k, v in fits.items()) + ".", ""]
    scale = sections.get("scale", {}).get("scale")
    if scale:
        lines += ["## Scale: a synthetic catalogue (`--sections scale`)", "",
                  "The demo model with n item tokens (titles \"Item i (synthetic)\"), LoRA + trainable item rows, "
                  "scoring 16 users of 50 history items each (one forward pass ranks all n items); each n in its own "
                  "process.", "",
                  "| items | add tokens s | resize + init s | trainable parameters | score 16 users s | peak RSS MB |",
                  "|---|---|---|---|---|---|",
                  *[f"| {n} | {v['add tokens s']:.1f} | {v['resize + init s']:.1f} | {v['trainable parameters']} | "
                    f"{v['score 16 users s']:.2f} | {v['peak RSS MB']:.0f} |" for n, v in scale.items()], ""]
    curves = {name: row["curve"] for name, row in perf.items() if row.get("curve")}
    if curves and baselines:
        end = max(int(x) for c in curves.values() for x in c)
        for name, value in baselines["valid_ndcg@10"].items():
            fitted = baselines["rows"][name]["fit seconds"]
            curves[f"{name} (fitted in {fitted:.0f} s)"] = {"0": value, str(end): value}
        lm, sasrec_panel = "LM validation NDCG@10 (100 users)", "SASRec validation NDCG@10 (full)"
        sasrec_curves = {SASREC_DEFAULT: baselines["sasrec_curve"]}
        if "sasrec-init" in sections:
            sasrec_curves[SASREC_PUBLISHED] = sections["sasrec-init"]["sasrec_curve"]
        curve_panels({lm: curves, sasrec_panel: sasrec_curves},
                     report.parent / "benchmark_curves.png",
                     xlabels={lm: "training seconds", sasrec_panel: "epoch"})
        lines += ["## Learning curves", "", "Each LM's validation NDCG@10 (100 users, every 30 steps) against its "
                  "training seconds (steps times the run's mean step time); the baselines' level on the same rows as "
                  "flat lines.", "", "![curves](benchmark_curves.png)", ""]
    loo = _with("loo", sections)
    if loo:
        metric_bars({k: ranking_metrics(np.array([np.inf if r is None else r for r in v["loo"]], dtype=float), KS)
                     for k, v in loo.items()}, report.parent / "benchmark_metrics.png",
                    title="loo-random-10 on ML-100K, all test users")
        lines += ["![metrics](benchmark_metrics.png)", ""]
    lines += ["Versions: " + ", ".join(f"{k} {v}" for k, v in store["versions"].items()) + ".", ""]
    return "\n".join(lines)


def run_benchmark(sections: list[str], report: Path, paths: BenchPaths, smoke: bool = False) -> str:
    """Run ``sections`` (none: only re-render), keeping the others' stored results; returns the report."""
    store = SectionStore(report, lambda data: render(data, report), fresh=smoke)
    store.data.update(machine=f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads", seed=42,
                      versions=versions())
    ctx = Context(smoke, paths) if sections else None
    runners = {"baselines": run_baselines, "sasrec-init": run_sasrec_init, "items-zero-shot": run_items_zero_shot,
               "scale": run_scale,
               "text-rerank": run_text_rerank,
               **{s: (lambda c, s=s: run_item_variant(c, s)) for s in ITEM_VARIANTS},
               **{s: (lambda c, s=s: run_text(c, s)) for s in ("text-lora", "text-zero-shot")}}
    return store.run_sections(sections, runners, ctx)


def versions() -> dict[str, str]:
    import accelerate
    import bitsandbytes
    import peft
    import transformers

    return {"instructrec_peft": __version__,
            **{m.__name__: m.__version__ for m in (torch, transformers, peft, accelerate, bitsandbytes)}}
