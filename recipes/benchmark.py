"""The benchmark report: LM recommenders against real baselines on ML-100K, and scoring speed.

    python recipes/benchmark.py                       # writes reports/benchmark.md and reports/*.png
    python recipes/benchmark.py --users 100 --skip-tuning   # reuse adapters already in outputs/bench-*

Rows: popularity, BPR, SASRec (full ranking and on the LM's candidates), the base LM zero-shot,
and the tuned LM as LoRA fp32, QLoRA 4-bit and prompt tuning (each tuned with the demo budget).
Protocols (DESIGN.md): ``loo-random-10``, ``rerank-top20`` (SASRec's top 20, reranked by the LM;
a target outside them is a miss) and ``full`` (baselines only). Performance: training tokens/s
and peak memory per tuning run; candidates/s of naive, shared-prefix and index scoring at 10 and
20 candidates. About 50 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from instructrec_peft.baselines import BPR, Popularity, SASRec, full_ranking_ranks
from instructrec_peft.config import parse_config
from instructrec_peft.evaluation import format_table, rank_rows
from instructrec_peft.examples import ExampleConfig, build_examples
from instructrec_peft.metrics.formulas import ranking_metrics, target_ranks
from instructrec_peft.modeling import load_adapter, load_base_model, load_tokenizer
from instructrec_peft.protocols import protocol_rows
from instructrec_peft.scoring import index_scores, score_candidates
from instructrec_peft.templates import candidate_labels, get_template
from instructrec_peft.tokenization import PromptEncoder
from instructrec_peft.tuning import run_tuning

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "recipes" / "configs" / "demo-cpu.yaml"
KS = (1, 3, 5, 10)
VARIANTS = {  # name -> overrides of the demo config
    "LoRA fp32": ["--quantization", "none"],
    "QLoRA 4-bit": [],
    "prompt tuning": ["--peft_method", "prompt_tuning", "--num_virtual_tokens", "20", "--learning_rate", "3e-2",
                      "--prompt_tuning_init_text", "Recommend the next movie the user will watch."],
}


def make_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100, help="test users for the LM rows")
    parser.add_argument("--speed-users", type=int, default=8, help="users timed per scoring method")
    parser.add_argument("--skip-tuning", action="store_true", help="reuse outputs/bench-* adapters")
    parser.add_argument("--report", default=str(ROOT / "reports" / "benchmark.md"))
    parser.add_argument("--smoke", action="store_true",
                        help="a minutes-long run of every step with tiny budgets (checks the script, not the models)")
    return parser


def _miss_aware(ranks: list[float]) -> dict[str, float]:
    """Metrics where a rank of inf (target not retrieved) counts as a miss everywhere."""
    ranks = np.asarray(ranks, dtype=np.float64)
    out = {}
    for k in KS:
        out[f"hr@{k}"] = float(np.mean(ranks <= k))
        out[f"ndcg@{k}"] = float(np.mean(np.where(ranks <= k, 1 / np.log2(ranks + 1), 0.0)))
    out["mrr"] = float(np.mean(np.where(np.isfinite(ranks), 1 / ranks, 0.0)))
    return out


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    args = make_parser().parse_args(argv)
    smoke = ["--max_steps", "2", "--eval_steps", "1", "--eval_users", "2"] if args.smoke else []
    if args.smoke:
        args.users, args.speed_users = 4, 1
    started = time.perf_counter()
    timings, perf, curves = {}, {}, {}
    model_args, data_args, train_args = parse_config([str(DEMO)])
    tokenizer = load_tokenizer(model_args)
    encoder = PromptEncoder(tokenizer, system_prompt=data_args.system_prompt)
    data = protocol_rows("loo-random-10", data_args, encoder, seed=train_args.seed, users=args.users)
    split, catalog, rows = data.split, data.log.catalog, data.rows
    items = list(catalog.texts)

    # ---- baselines -----------------------------------------------------------------------------
    t = time.perf_counter()
    baselines = {"popularity": Popularity.fit(split, items)}
    t_bpr = time.perf_counter()
    baselines["BPR-MF"] = BPR.fit(split, items, epochs=1 if args.smoke else 30, seed=train_args.seed)
    timings["BPR-MF fit"] = time.perf_counter() - t_bpr
    t_sas = time.perf_counter()
    baselines["SASRec"] = SASRec.fit(split, items, epochs=2 if args.smoke else 150, eval_every=1 if args.smoke else 5,
                                     patience=25, lr=3e-3, batch_size=64, seed=train_args.seed)
    timings["SASRec fit"] = time.perf_counter() - t_sas
    curves["SASRec validation NDCG@10 (full)"] = baselines["SASRec"].history
    full = {name: ranking_metrics(full_ranking_ranks(m, split), KS) for name, m in baselines.items()}
    loo = {name: ranking_metrics(target_ranks(*m.rank_rows(rows)), KS) for name, m in baselines.items()}
    loo_all = {}
    all_rows = protocol_rows("loo-random-10", data_args, encoder, seed=train_args.seed, users=8 if args.smoke else 0).rows
    for name, m in baselines.items():
        loo_all[name] = ranking_metrics(target_ranks(*m.rank_rows(all_rows)), KS)
    timings["baselines total"] = time.perf_counter() - t

    # ---- LMs on loo-random-10 ------------------------------------------------------------------
    base = load_base_model(replace(model_args, quantization="none"))
    t = time.perf_counter()
    loo["SmolLM2-135M zero-shot"] = ranking_metrics(target_ranks(*rank_rows(base, encoder, rows, catalog,
                                                                             progress=False)), KS)
    timings[f"zero-shot loo-random-10 ({len(rows)} users)"] = time.perf_counter() - t
    adapters = {}
    for name, overrides in VARIANTS.items():
        out = ROOT / "outputs" / f"{'smoke' if args.smoke else 'bench'}-{name.lower().replace(' ', '-')}"
        argv_variant = [str(DEMO), "--output_dir", str(out), "--eval_strategy", "steps", "--eval_steps", "25",
                        "--eval_users", "30", *overrides, *smoke]
        m_args, d_args, t_args = parse_config(argv_variant)
        if not (args.skip_tuning and (out / "adapter_model.safetensors").is_file()):
            rss_before = _peak_rss_mb()
            result = run_tuning(m_args, d_args, t_args)
            # Real (non-padding) tokens seen: mean example length x examples per step x steps.
            lengths = [len(x) for x in result.trainer.train_dataset["input_ids"]]
            tokens = float(np.mean(lengths)) * t_args.per_device_train_batch_size * t_args.max_steps
            perf[name] = {"train seconds": result.train_metrics["train_runtime"],
                          "train tokens/s": tokens / result.train_metrics["train_runtime"],
                          "peak RSS MB (process)": max(rss_before, _peak_rss_mb())}
        state = json.loads((out / "trainer_state.json").read_text())
        curves[f"{name} train loss"] = {e["step"]: e["loss"] for e in state["log_history"] if "loss" in e}
        curves[f"{name} validation NDCG@10 (30 users)"] = {e["step"]: e["eval_ndcg@10"] for e in state["log_history"]
                                                          if "eval_ndcg@10" in e}
        model = load_adapter(str(out), model_args=m_args)
        t = time.perf_counter()
        loo[f"+ {name}"] = ranking_metrics(target_ranks(*rank_rows(model, encoder, rows, catalog, progress=False)), KS)
        timings[f"{name} loo-random-10 ({len(rows)} users)"] = time.perf_counter() - t
        adapters[name] = model

    # ---- rerank-top20 --------------------------------------------------------------------------
    sasrec = baselines["SASRec"]
    users = [r["user"] for r in rows]
    template = get_template(data_args.eval_template)
    retrieved = {u: sasrec.top_k(split, u, 20) for u in users}
    sas_ranks, lm_ranks = [], []
    reranker = adapters["QLoRA 4-bit"]
    t = time.perf_counter()
    for row in rows:
        user, target, top = row["user"], row["target"], retrieved[row["user"]]
        if target not in top:
            sas_ranks.append(np.inf)
            lm_ranks.append(np.inf)
            continue
        sas_ranks.append(top.index(target) + 1)
        prompt_ids = encoder.prompt_ids([row["prompt"]])[0]
        scores = score_candidates(reranker, prompt_ids, encoder.completion_ids([catalog.text(i) for i in top]))
        lm_ranks.append(int(target_ranks([scores.tolist()], [top.index(target)])[0]))
    timings[f"rerank-top20 LM ({len(rows)} users)"] = time.perf_counter() - t
    rerank = {"SASRec alone": _miss_aware(sas_ranks), "SASRec + QLoRA reranker": _miss_aware(lm_ranks)}
    recall20 = float(np.mean(np.isfinite(sas_ranks)))

    # ---- scoring speed -------------------------------------------------------------------------
    speed = {}
    label_template = get_template("p1-i0-reranking-3")
    for n in (10, 20):
        config = ExampleConfig(tasks={"matching": 1.0}, templates=[data_args.eval_template], num_candidates=n,
                               seed=train_args.seed)
        speed_rows = build_examples(split, catalog, "test", config, users=split.evaluated[: args.speed_users])
        for method in ("naive", "shared_prefix"):
            t = time.perf_counter()
            for row in speed_rows:
                score_candidates(base, encoder.prompt_ids([row["prompt"]])[0],
                                 encoder.completion_ids([catalog.text(i) for i in row["candidates"]]), method=method)
            speed[(method, n)] = n * len(speed_rows) / (time.perf_counter() - t)
        t = time.perf_counter()
        for row in speed_rows:
            texts = [catalog.text(i) for i in row["candidates"]]
            prompt = label_template.render(vocabulary="movie", history=[catalog.text(i) for i in row["history"]]
                                           or [texts[0]], candidates=texts, target="", label="").prompt
            labels = [encoder.completion_ids([x])[0][0] for x in candidate_labels(n)]
            index_scores(base, encoder.prompt_ids([prompt])[0], labels)
        speed[("index", n)] = n * len(speed_rows) / (time.perf_counter() - t)

    # ---- report --------------------------------------------------------------------------------
    total = (time.perf_counter() - started) / 60
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    _plots(report.parent, loo, curves)
    lines = [
        "# Benchmark: instruction-tuned SmolLM2-135M vs baselines on ML-100K", "",
        f"Generated by `python recipes/benchmark.py` ({total:.0f} min). Machine: {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}. Chronological leave-one-out split; "
        f"seed {train_args.seed}; LM rows use the first {len(rows)} test users (by id), the demo budget "
        "(50 steps x 8 examples, `recipes/configs/demo-cpu.yaml`) and template "
        f"`{data_args.eval_template}`. One seed: read differences of a few points as noise.", "",
        f"## loo-random-10 ({len(rows)} users; target + 9 never-touched items)", "", format_table(loo, {k: len(rows) for k in loo}), "",
        "## loo-random-10, baselines on all 943 users", "", format_table(loo_all, {k: len(all_rows) for k in loo_all}), "",
        f"## rerank-top20 ({len(rows)} users; SASRec recall@20 = {recall20:.3f}; a target outside the 20 is a miss)", "",
        format_table(rerank, {k: len(rows) for k in rerank}), "",
        "## full ranking (baselines, all 943 users, every never-touched item)", "",
        format_table(full, {k: len(split.evaluated) for k in full}), "",
        "## Training (tuning runs of this benchmark)", "",
        "| variant | train seconds | train tokens/s | peak RSS MB |", "|---|---|---|---|",
        *[f"| {k} | {v['train seconds']:.0f} | {v['train tokens/s']:.0f} | {v['peak RSS MB (process)']:.0f} |"
          for k, v in perf.items()], "",
        f"## Candidate scoring speed (fp32 base, {args.speed_users} users, candidates/s)", "",
        "| candidates | naive | shared-prefix | index (one pass) | shared-prefix / naive |", "|---|---|---|---|---|",
        *[f"| {n} | {speed[('naive', n)]:.1f} | {speed[('shared_prefix', n)]:.1f} | {speed[('index', n)]:.1f} | "
          f"{speed[('shared_prefix', n)] / speed[('naive', n)]:.1f}x |" for n in (10, 20)], "",
        "## Wall times (seconds)", "", "| step | seconds |", "|---|---|",
        *[f"| {k} | {v:.0f} |" for k, v in timings.items()], "",
        "![metrics](benchmark_metrics.png)", "", "![curves](benchmark_curves.png)", "",
    ]
    report.write_text("\n".join(lines))
    (report.parent / "benchmark.json").write_text(json.dumps(
        {"loo": loo, "loo_all": loo_all, "rerank": rerank, "full": full, "perf": perf, "timings": timings,
         "speed": {f"{m}@{n}": v for (m, n), v in speed.items()}, "curves": curves}, indent=2, default=str))
    print(report.read_text())


def _plots(folder: Path, loo: dict, curves: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    names = list(loo)
    metrics = ["hr@1", "hr@3", "ndcg@3", "ndcg@10"]
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        ax.bar(np.arange(len(metrics)) + i * width, [loo[name][m] for m in metrics], width, label=name)
    ax.set_xticks(np.arange(len(metrics)) + 0.4 - width / 2, [m.upper() for m in metrics])
    ax.set_title("loo-random-10 on ML-100K")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "benchmark_metrics.png", dpi=120)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, curve in curves.items():
        if not curve:
            continue
        axis = left if "loss" in name else right
        axis.plot(list(map(int, curve)), list(curve.values()), marker="o", label=name)
    left.set_title("training loss")
    left.set_xlabel("step")
    right.set_title("validation NDCG@10")
    right.set_xlabel("step (LM) / epoch (SASRec)")
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(folder / "benchmark_curves.png", dpi=120)


if __name__ == "__main__":
    main()
