"""bf16 against fp32: the same runs in both formats, same seed: ``reports/precision.md``.

For the item-token demo (``recipes/configs/items-cpu.yaml``) and the text-only LoRA
(``recipes/configs/demo-cpu.yaml``, without quantisation, so that only the format differs), each
run tunes once with ``precision: fp32`` and once with ``bf16`` (``recipes/tune.py`` in its own
process), then ranks every test user with the adapter loaded as the Recommender loads it (the
base in the run's saved format): ``loo-random-10`` for both, and the whole catalogue for the
item-token model. The report has the training loss of both runs step by step, the training
time, and the metrics with 95% bootstrap intervals and the paired bf16 - fp32 difference.

    python recipes/bench_precision.py [--sections items text] [--smoke]
"""

from __future__ import annotations

import time
from pathlib import Path

from instructrec_peft.evaluation.metrics.bootstrap import paired_ci, per_user
from instructrec_peft.evaluation.ranking import ranks_table

from .report_store import SectionStore
from .runs import measured_tuning

__all__ = ["CONFIGS", "PRECISIONS", "run_precision", "render"]

CONFIGS = {"items": "items-cpu.yaml", "text": "demo-cpu.yaml"}
PRECISIONS = ("fp32", "bf16")
TABLES = {"loo": (("hr@1", "hr@5", "ndcg@5", "ndcg@10", "mrr"), ("hr@1", "ndcg@10")),
          "full": (("hr@1", "hr@10", "ndcg@10", "mrr"), ("hr@10", "ndcg@10"))}


def _tune(root: Path, name: str, precision: str, outputs: Path, smoke: bool) -> tuple[Path, dict]:
    out = outputs / f"{'smoke-' if smoke else ''}precision-{name}-{precision}"
    argv = [str(root / "recipes" / "configs" / CONFIGS[name]), "--output_dir", str(out), "--precision", precision,
            "--quantization", "none", "--eval_strategy", "no", "--save_strategy", "no", "--logging_steps", "5"]
    if smoke:
        argv += ["--max_steps", "2", "--logging_steps", "1"]
    return out, measured_tuning(root / "recipes" / "tune.py", argv, out)[0]


def _evaluate(name: str, out: Path, users: int) -> dict:
    """Rank the test users with the adapter loaded as the Recommender does (its saved configs)."""
    from dataclasses import replace

    from instructrec_peft.config import saved_configs
    from instructrec_peft.evaluation.metrics.formulas import target_ranks
    from instructrec_peft.evaluation.protocols import protocol_rows, run_item_lm
    from instructrec_peft.inference.candidates import rank_rows
    from instructrec_peft.instructions.tokenization import PromptEncoder
    from instructrec_peft.models.loading import item_tokens_of, load_adapter, load_tokenizer

    model_args, data_args = saved_configs(out)
    model = load_adapter(str(out), model_args=model_args)
    encoder = PromptEncoder.for_settings(load_tokenizer(replace(model_args, model_name_or_path=str(out))), data_args)
    data = protocol_rows("loo-random-10", data_args, encoder, seed=42, users=users)
    start = time.perf_counter()
    if name == "items":
        ranked = run_item_lm(model, encoder, data_args, item_tokens_of(out), data, seed=42)
        result = {"users": ranked.users, "loo": [float(r) for r in ranked.loo],
                  "full": [float(r) for r in ranked.full]}
    else:
        scores, targets = rank_rows(model, encoder, data.rows, data.log.catalog)
        result = {"users": list(data.rows["user"]), "loo": [float(r) for r in target_ranks(scores, targets)]}
    return {**result, "dtype": model_args.dtype, "eval seconds": time.perf_counter() - start}


def run_config(root: Path, name: str, outputs: Path, smoke: bool = False) -> dict:
    runs = {}
    for precision in PRECISIONS:
        out, perf = _tune(root, name, precision, outputs, smoke)
        runs[precision] = {**perf, **_evaluate(name, out, users=8 if smoke else 0)}
    return {"runs": runs}


def run_precision(root: Path, report: Path, sections: list[str], smoke: bool = False) -> str:
    store = SectionStore(report, render)
    for name in sections:
        print(f"{name}: tuning and evaluating in fp32 and bf16 ...", flush=True)
        store.run(name, lambda: run_config(root, name, root / "outputs", smoke))
    return report.read_text()


def render(data: dict) -> str:
    lines = ["# bf16 against fp32", "",
             "Written by `python recipes/bench_precision.py` (`benchmarks/precision_bench.py`) on "
             "2 CPU cores with AVX512-BF16. Each configuration is tuned twice, same seed and examples: `precision: "
             "fp32` and `precision: bf16` (what `auto` picks on this CPU: the frozen base in bf16, autocast, LoRA "
             "weights, item rows and optimizer state in fp32, losses and item scores in fp32), without quantisation. "
             "Every test user is ranked with the adapter loaded as the Recommender loads it (the base in the run's "
             "saved format). Intervals: 95% bootstrap over users; the difference is paired (same users, same "
             "candidates).", ""]
    titles = {"items": "Item tokens (`recipes/configs/items-cpu.yaml`, the demo)",
              "text": "Text-only LoRA (`recipes/configs/demo-cpu.yaml`, unquantised)"}
    for name in CONFIGS:
        section = data.get(name)
        if not section:
            continue
        runs = section["runs"]
        fp32, bf16 = runs["fp32"], runs["bf16"]
        speedup = fp32["train seconds"] / bf16["train seconds"]
        lines += [f"## {titles[name]}", "",
                  f"Training: fp32 {fp32['train seconds']:.0f} s ({fp32['tokens/s']:.0f} tokens/s), bf16 "
                  f"{bf16['train seconds']:.0f} s ({bf16['tokens/s']:.0f} tokens/s): **{speedup:.2f}x faster** over "
                  f"{fp32['steps']} steps; peak RSS {fp32['peak RSS MB']:.0f} vs {bf16['peak RSS MB']:.0f} MB. "
                  f"Ranking the test users: fp32 {fp32['eval seconds']:.0f} s, bf16 {bf16['eval seconds']:.0f} s. "
                  f"The section took {section.get('minutes', 0):.0f} min.", ""]
        for protocol in ("loo", "full"):
            if protocol not in fp32:
                continue
            columns, ci = TABLES[protocol]
            _, table = ranks_table({"fp32": fp32[protocol], "bf16": bf16[protocol]}, columns, ci)
            label = "loo-random-10" if protocol == "loo" else "full ranking (every unseen item)"
            lines += [f"{label}, {len(fp32['users'])} test users:", "", table, ""]
            for metric in ci:
                mean, lo, hi = paired_ci(per_user(bf16[protocol], metric), per_user(fp32[protocol], metric))
                lines.append(f"- bf16 - fp32 {metric}: {mean:+.4f} (95% CI {lo:+.4f} to {hi:+.4f})")
            lines.append("")
        steps = sorted(set(fp32["loss"]) & set(bf16["loss"]), key=int)
        if steps:
            lines += ["Training loss (logged every 5 steps):", "", "| step | fp32 | bf16 |", "|---|---|---|"]
            lines += [f"| {s} | {fp32['loss'][s]:.4f} | {bf16['loss'][s]:.4f} |" for s in steps]
            gap = max(abs(fp32["loss"][s] - bf16["loss"][s]) for s in steps)
            lines += ["", f"Largest gap between the curves: {gap:.4f} nats.", ""]
    return "\n".join(lines) + "\n"
