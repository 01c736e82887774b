"""The benchmark report: LM recommenders against real baselines on ML-100K, and scoring speed.

    python recipes/benchmark.py                      # writes reports/benchmark.md, .json and two PNGs
    python recipes/benchmark.py --skip-tuning        # reuse the adapters already in outputs/bench-*
    python recipes/benchmark.py --smoke              # every step with tiny budgets, a few minutes

Rows: popularity, BPR, SASRec (full ranking and on the LM's candidates), the base LM zero-shot,
and the tuned LM as LoRA fp32, QLoRA 4-bit and prompt tuning (each tuned with the demo budget,
each in its own process so its peak memory is its own). Protocols (DESIGN.md): ``loo-random-10``,
``rerank-top20`` (SASRec's top 20 reordered by a tuned LM; a target outside them is a miss) and
``full`` (baselines only). Speed: candidates/s of naive, batched, shared-prefix and index scoring
at 10 and 20 candidates. About an hour on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

import instructrec_peft
from instructrec_peft.baselines import BPR, Popularity, SASRec, full_ranking_ranks
from instructrec_peft.config import parse_config
from instructrec_peft.data import eval_rows
from instructrec_peft.evaluation import format_table, rank_rows
from instructrec_peft.metrics.formulas import ranking_metrics, target_ranks
from instructrec_peft.modeling import load_adapter, load_base_model, load_tokenizer
from instructrec_peft.plots import curve_panels, metric_bars
from instructrec_peft.protocols import protocol_rows, rerank_ranks
from instructrec_peft.runs import run_measured
from instructrec_peft.speed import scoring_throughput
from instructrec_peft.tokenization import PromptEncoder

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "recipes" / "configs" / "demo-cpu.yaml"
KS = (1, 3, 5, 10)
SPEED_METHODS = ("naive", "batched", "shared_prefix", "index")
VARIANTS = {  # name -> overrides of the demo config
    "LoRA fp32": ["--quantization", "none"],
    "QLoRA 4-bit": [],
    "prompt tuning": ["--peft_method", "prompt_tuning", "--num_virtual_tokens", "20", "--learning_rate", "3e-2",
                      "--prompt_tuning_init_text", "Recommend the next movie the user will watch."],
}
RERANKERS = ("LoRA fp32", "QLoRA 4-bit")


def make_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100, help="test users for the LM rows")
    parser.add_argument("--speed-users", type=int, default=8, help="users timed per scoring method")
    parser.add_argument("--sasrec-epochs", type=int, default=300)
    parser.add_argument("--skip-tuning", action="store_true", help="reuse outputs/bench-* adapters")
    parser.add_argument("--report", default=str(ROOT / "reports" / "benchmark.md"))
    parser.add_argument("--smoke", action="store_true",
                        help="a minutes-long run of every step with tiny budgets (checks the script, not the models)")
    return parser


def timed(timings: dict, name: str, fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    timings[name] = time.perf_counter() - start
    return out


def main(argv=None):
    args = make_parser().parse_args(argv)
    smoke = ["--max_steps", "2", "--eval_steps", "1", "--eval_users", "2"] if args.smoke else []
    if args.smoke:
        args.users, args.speed_users, args.sasrec_epochs = 4, 1, 2
    started = time.perf_counter()
    timings, perf, curves = {}, {}, {}
    model_args, data_args, train_args = parse_config([str(DEMO)])
    seed = train_args.seed
    encoder = PromptEncoder(load_tokenizer(model_args), system_prompt=data_args.system_prompt)
    data = protocol_rows("loo-random-10", data_args, encoder, seed=seed, users=args.users)
    split, catalog, rows = data.split, data.log.catalog, data.rows
    items = list(catalog.texts)

    # ---- baselines: full ranking and loo-random-10 (the LM's users, and all users) -------------
    baselines = {"popularity": Popularity.fit(split, items)}
    baselines["BPR-MF"] = timed(timings, "BPR-MF fit", BPR.fit, split, items, epochs=1 if args.smoke else 30, seed=seed)
    baselines["SASRec"] = timed(timings, "SASRec fit", SASRec.fit, split, items, epochs=args.sasrec_epochs,
                                eval_every=1 if args.smoke else 5, patience=25, lr=3e-3, batch_size=64, seed=seed)
    sasrec = baselines["SASRec"]
    full = {name: ranking_metrics(full_ranking_ranks(m, split), KS) for name, m in baselines.items()}
    loo = {name: ranking_metrics(target_ranks(*m.rank_rows(rows)), KS) for name, m in baselines.items()}
    all_rows = protocol_rows("loo-random-10", data_args, encoder, seed=seed, users=8 if args.smoke else 0).rows
    loo_all = {name: ranking_metrics(target_ranks(*m.rank_rows(all_rows)), KS) for name, m in baselines.items()}

    # ---- LMs on loo-random-10 ------------------------------------------------------------------
    base = load_base_model(replace(model_args, quantization="none"))
    ranked = timed(timings, f"zero-shot loo-random-10 ({len(rows)} users)", rank_rows, base, encoder, rows, catalog,
                   progress=False)
    loo["SmolLM2-135M zero-shot"] = ranking_metrics(target_ranks(*ranked), KS)
    adapters = {}
    for name, overrides in VARIANTS.items():
        out = ROOT / "outputs" / f"{'smoke' if args.smoke else 'bench'}-{name.lower().replace(' ', '-')}"
        variant = [str(DEMO), "--output_dir", str(out), "--eval_strategy", "steps", "--eval_steps", "25",
                   "--eval_users", "30", *overrides, *smoke]
        if not (args.skip_tuning and (out / "adapter_model.safetensors").is_file()):
            run = run_measured([sys.executable, str(ROOT / "recipes" / "tune.py"), *variant])
            results = json.loads((out / "train_results.json").read_text())
            perf[name] = {"train seconds": results["train_runtime"], "tokens": results["train_tokens"],
                          "tokens/s": results["train_tokens_per_second"], "process seconds": run.seconds,
                          "peak RSS MB": run.peak_rss_mb}
        state = json.loads((out / "trainer_state.json").read_text())
        curves.setdefault("LM training loss", {})[name] = {e["step"]: e["loss"] for e in state["log_history"]
                                                           if "loss" in e}
        curves.setdefault("LM validation NDCG@10 (loo-random-10, 30 users)", {})[name] = {
            e["step"]: e["eval_ndcg@10"] for e in state["log_history"] if "eval_ndcg@10" in e}
        adapters[name] = load_adapter(str(out), model_args=parse_config(variant)[0])
        ranked = timed(timings, f"{name} loo-random-10 ({len(rows)} users)", rank_rows, adapters[name], encoder, rows,
                       catalog, progress=False)
        loo[f"+ {name}"] = ranking_metrics(target_ranks(*ranked), KS)
    curves["SASRec validation NDCG@10 (full ranking)"] = {"SASRec": sasrec.history}

    # ---- rerank-top20 --------------------------------------------------------------------------
    rerank = {}
    for name in RERANKERS:
        retrieved, reranked = timed(timings, f"rerank-top20 by {name} ({len(rows)} users)", rerank_ranks,
                                    adapters[name], encoder, data, sasrec, 20, progress=False)
        rerank["SASRec alone"] = ranking_metrics(retrieved, KS)
        rerank[f"SASRec + {name} reranker"] = ranking_metrics(reranked, KS)
    recall20 = float((retrieved <= 20).mean())

    # ---- scoring speed -------------------------------------------------------------------------
    speed = {}
    for n in (10, 20):
        speed_rows = eval_rows(split, data.log, replace(data_args, num_candidates=n), encoder, seed, "test",
                               args.speed_users)
        speed[n] = scoring_throughput(base, encoder, speed_rows, catalog, SPEED_METHODS)

    # ---- report --------------------------------------------------------------------------------
    minutes = (time.perf_counter() - started) / 60
    report = Path(args.report)
    metric_bars(loo, report.parent / "benchmark_metrics.png", title="loo-random-10 on ML-100K")
    curve_panels(curves, report.parent / "benchmark_curves.png",
                 xlabels={"SASRec validation NDCG@10 (full ranking)": "epoch"})
    versions = {m.__name__: m.__version__ for m in _modules()}
    users = lambda table, n: {k: n for k in table}  # noqa: E731
    lines = [
        "# Benchmark: instruction-tuned SmolLM2-135M vs baselines on ML-100K", "",
        f"Generated by `python recipes/benchmark.py` ({minutes:.0f} min). Machine: {platform.machine()}, "
        f"{torch.get_num_threads()} torch threads; " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ". "
        f"Chronological leave-one-out split; seed {seed}; LM rows use the first {len(rows)} test users (by id), "
        "the demo budget (50 steps x 8 examples, `recipes/configs/demo-cpu.yaml`) and template "
        f"`{data_args.eval_template}`. One seed: read differences of a few points as noise.", "",
        f"## loo-random-10 ({len(rows)} users; target + 9 never-touched items)", "", format_table(loo, users(loo, len(rows))),
        "", "## loo-random-10, baselines on all 943 users", "", format_table(loo_all, users(loo_all, len(all_rows))), "",
        f"## rerank-top20 ({len(rows)} users; SASRec recall@20 = {recall20:.3f}; a target outside the 20 is a miss)",
        "", format_table(rerank, users(rerank, len(rows))), "",
        "## full ranking (baselines, all 943 users, every never-touched item)", "",
        format_table(full, users(full, len(split.evaluated))), "",
        "## Training (each tuning run in its own process)", "",
        "Tokens are the non-padding tokens of the batches trained on; peak RSS is the tuning process's own.", "",
        "| variant | train seconds | tokens | tokens/s | peak RSS MB |", "|---|---|---|---|---|",
        *[f"| {k} | {v['train seconds']:.0f} | {v['tokens']} | {v['tokens/s']:.0f} | {v['peak RSS MB']:.0f} |"
          for k, v in perf.items()], "",
        f"## Candidate scoring speed (fp32 base, {args.speed_users} users, candidates/s, tokenisation excluded)", "",
        "| candidates | " + " | ".join(SPEED_METHODS) + " | shared-prefix / naive |", "|---" * (len(SPEED_METHODS) + 2) + "|",
        *[f"| {n} | " + " | ".join(f"{speed[n][m]:.1f}" for m in SPEED_METHODS)
          + f" | {speed[n]['shared_prefix'] / speed[n]['naive']:.1f}x |" for n in speed], "",
        "## Wall times (seconds)", "", "| step | seconds |", "|---|---|",
        *[f"| {k} | {v:.0f} |" for k, v in timings.items()], "",
        "![metrics](benchmark_metrics.png)", "", "![curves](benchmark_curves.png)", "",
    ]
    report.write_text("\n".join(lines))
    (report.parent / "benchmark.json").write_text(json.dumps(
        {"loo": loo, "loo_all": loo_all, "rerank": rerank, "full": full, "perf": perf, "timings": timings,
         "speed": speed, "curves": curves, "versions": versions, "seed": seed}, indent=2, default=str))
    print(report.read_text())


def _modules():
    import accelerate
    import bitsandbytes
    import peft
    import transformers

    return (instructrec_peft, torch, transformers, peft, accelerate, bitsandbytes)


if __name__ == "__main__":
    main()
