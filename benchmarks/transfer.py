"""Zero-shot transfer across catalogue domains: tune on one domain, rank in another.

For every domain an adapter is tuned on that domain's log only (``DataArguments.item_categories``,
:mod:`domains`); then every domain's test users rank their ``loo-random-10`` candidates (all
from that domain) with popularity, the base model zero-shot and each domain's adapter. The
off-diagonal cells are the transfer result: an adapter that never saw the domain's items, users'
histories in it or its genres, against the same base model without tuning.

>>> configs = parse_config(["recipes/configs/demo-cpu.yaml"])                             # doctest: +SKIP
>>> results = transfer_matrix(configs, ML100K_DOMAINS, "outputs/transfer")                  # doctest: +SKIP
>>> results["drama"]["systems"]["tuned on action"]["ndcg@10"]                                        # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Mapping, Sequence

from instructrec_peft.errors import ArgumentError

__all__ = ["tune_domain", "transfer_matrix"]


def tune_domain(configs: tuple, categories: Sequence[str], output_dir: str | Path, *, retrain: bool = False
                ) -> Path:
    """Tune ``configs`` (``parse_config``'s model, data and training arguments) on one domain into
    ``output_dir``; an adapter already there is reused unless ``retrain``."""
    from instructrec_peft.run_dir import RunDir
    from instructrec_peft.training.tuning import run_tuning

    model_args, data_args, train_args = configs
    output = Path(output_dir)
    if retrain or not RunDir(output).has_adapter():
        run_tuning(model_args, replace(data_args, item_categories=list(categories)),
                   replace(train_args, output_dir=str(output), save_strategy="no", eval_strategy="no"))
    return output


def transfer_matrix(configs: tuple, domains: Mapping[str, Sequence[str]], output_root: str | Path, *,
                    users: int = 100, seed: int = 42, retrain: bool = False, progress: bool = True
                    ) -> dict[str, dict]:
    """``{test domain: {"users": n, "systems": {system: loo-random-10 metrics}, "items": n,
    "interactions": n}}`` with systems
    popularity, zero-shot and ``tuned on <domain>`` for each domain, on the first ``users`` test
    users of each domain."""
    from instructrec_peft.evaluation.protocols import protocol_rows, run_lm, run_popularity
    from instructrec_peft.models.loading import load_adapter, load_base_model
    from instructrec_peft.models.workspace import Workspace

    if len(domains) < 2:
        raise ArgumentError(f"transfer needs at least two domains, got {list(domains)}")
    adapters = {name: tune_domain(configs, categories, Path(output_root) / name, retrain=retrain)
                for name, categories in domains.items()}
    model_args, data_args, _ = configs
    encoder = Workspace(data_args, seed, model_args).encoder
    base = load_base_model(model_args)
    results = {}
    for name, categories in domains.items():
        data = protocol_rows("loo-random-10", replace(data_args, item_categories=list(categories)), encoder,
                             seed=seed, users=users)
        row = {"popularity": run_popularity(data),
               "zero-shot": run_lm(base, encoder, data, progress=progress).metrics}
        for source, adapter in adapters.items():
            # A fresh base per adapter: PeftModel wraps the base it is given in place.
            model = load_adapter(str(adapter), model_args=model_args)
            row[f"tuned on {source}"] = run_lm(model, encoder, data, progress=progress).metrics
        results[name] = {"items": len(data.log.catalog), "interactions": len(data.log.interactions),
                         "users": len(data.rows), "systems": row}
    return results
