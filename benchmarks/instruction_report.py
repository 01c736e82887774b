"""The instruction report's machinery (``recipes/instruction_report.py`` runs it): which
instructions carry the signal, transfer across domains, cold start (reports/instructions.md).

Sections (each one's results are kept in ``reports/instructions.json``; the Markdown is rebuilt
from all of them, so a section can be rerun alone):

* ``aspects``: the text-only adapter of ``recipes/configs/demo-cpu.yaml`` and its base model zero-shot score the same
  ``loo-random-10`` test users and candidates with templates that vary one aspect at a time
  (task form at P1-I0, intention at P1-matching, preference at I2-matching), each in its own task
  form (``breakdown.py``);
* ``transfer``: an adapter tuned on each half of ML-100K's genres (``domains.ML100K_DOMAINS``)
  ranks both halves' test users, against zero-shot and popularity (``transfer.py``);
* ``cold_start``: 20% of the test items made cold; popularity, BPR and LM item embeddings of the
  base and the demo adapter (``cold_start.compare_cold_start``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from instructrec_peft.config import DataArguments, ModelArguments, parse_config, saved_configs
from instructrec_peft.data.domains import ML100K_DOMAINS
from instructrec_peft.errors import ConfigError, MissingFileError
from instructrec_peft.evaluation.breakdown import evaluate_templates, group_results
from instructrec_peft.evaluation.cold_start import compare_cold_start
from instructrec_peft.evaluation.protocols import protocol_rows
from instructrec_peft.evaluation.ranking import format_table
from instructrec_peft.instructions.manifest import Manifest
from instructrec_peft.instructions.templates import get_template
from instructrec_peft.instructions.tokenization import PromptEncoder
from instructrec_peft.models.loading import load_adapter, load_base_model, load_tokenizer

from .report_store import SectionStore
from .transfer import transfer_matrix

SECTIONS = ("aspects", "transfer", "cold_start")
# One aspect varies per group, the other two held fixed, so a difference is that aspect's.
ASPECT_GROUPS = {
    "task form (P1, I0)": ["p1-i0-matching-1", "p1-i0-reranking-1", "p1-i0-pointwise-1", "p1-i0-pairwise-1"],
    "intention (P1, matching)": ["p1-i0-matching-1", "p1-i1-matching-1", "p1-i2-matching-1"],
    "preference (I2, matching)": ["p0-i2-matching-1", "p1-i2-matching-1", "p2-i2-matching-1"],
}
MAIN_METRIC = {"matching": "ndcg@10", "reranking": "ndcg@10", "pointwise": "auc", "pairwise": "pairwise accuracy"}
TRANSFER_COLUMNS = ("hr@1", "hr@3", "ndcg@3", "ndcg@10", "mrr")
COLD_COLUMNS = ("hr@1", "hr@5", "hr@10", "hr@20", "ndcg@10", "mrr")


@dataclass
class ReportSettings:
    """What the sections run on (the recipe's flags)."""

    adapter: str  # the tuned text-only adapter of the aspects and cold-start sections
    config: str  # the tuning config of the transfer adapters
    transfer_dir: str
    aspect_users: int = 20
    aspect_quantization: str = "none"
    transfer_users: int = 60
    transfer_steps: int = 30
    retrain: bool = False
    seed: int = 42
    smoke: bool = False

    def __post_init__(self):
        if self.aspect_quantization not in ("none", "8bit", "4bit"):
            raise ConfigError(f"aspect_quantization: {self.aspect_quantization!r} is not one of none, 8bit, 4bit")
        for key in ("aspect_users", "transfer_users", "transfer_steps"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key} must be >= 1, got {getattr(self, key)}")


def _adapter_configs(adapter: str) -> tuple[ModelArguments, DataArguments]:
    try:
        return saved_configs(adapter, hint="no tuned adapter there; run `python recipes/tune.py "
                                               "recipes/configs/demo-cpu.yaml` first (make report does) or pass "
                                               "--adapter")
    except FileNotFoundError as err:
        raise MissingFileError(str(err)) from None


def run_aspects(args: ReportSettings) -> dict:
    trained_args, data_args = _adapter_configs(args.adapter)
    model_args = replace(trained_args, quantization=args.aspect_quantization)
    manifest = Manifest.load(args.adapter)
    encoder = PromptEncoder(load_tokenizer(model_args), chat_template=manifest.chat_template,
                            system_prompt=manifest.system_prompt)
    data = protocol_rows("loo-random-10", data_args, encoder, seed=args.seed, users=args.aspect_users)
    names = list(dict.fromkeys(n for group in ASPECT_GROUPS.values() for n in group))
    scored = {}
    for system, model in (("zero-shot", lambda: load_base_model(model_args)),
                          ("tuned", lambda: load_adapter(args.adapter, model_args=model_args))):
        evaluated = evaluate_templates(model(), encoder, data.split, data.log.catalog, data.rows, names,
                                       vocabulary=data_args.vocabulary, seed=args.seed,
                                       max_prompt_tokens=data_args.max_prompt_tokens,
                                       max_history_items=data_args.max_history_items)
        scored[system] = {"metrics": group_results(evaluated, "template"),
                          "users": {n: r.users for n, r in evaluated.items()}}
    return {"adapter": Path(args.adapter).name, "trained_on": [t["name"] for t in manifest.templates],
            "trained_quantization": trained_args.quantization,
            "quantization": model_args.quantization, "users": len(data.rows), "systems": scored}


def run_transfer(args: ReportSettings) -> dict:
    # fp32, as the report's figures were measured (precision: auto would pick bf16 on a CPU that has it).
    argv = [args.config, "--quantization", "none", "--precision", "fp32", "--max_steps", str(args.transfer_steps)]
    if args.smoke:
        argv += ["--examples_per_user", "1", "--per_device_train_batch_size", "2"]
    results = transfer_matrix(parse_config(argv), ML100K_DOMAINS, args.transfer_dir, users=args.transfer_users,
                              seed=args.seed,
                              retrain=args.retrain)
    return {"steps": args.transfer_steps, "config": Path(args.config).name, "domains": dict(ML100K_DOMAINS),
            "results": results}


def run_cold_start(args: ReportSettings) -> dict:
    model_args, data_args = _adapter_configs(args.adapter)
    result = compare_cold_start(model_args, data_args, args.adapter, seed=args.seed,
                                bpr_epochs=3 if args.smoke else 30)
    return dict(result, adapter=Path(args.adapter).name)


def aspects_markdown(section: dict) -> list[str]:
    precision = {"none": "full precision", "8bit": "8-bit", "4bit": "4-bit"}
    lines = [f"Adapter `{section['adapter']}` (trained on {', '.join(section['trained_on'])} with the base in "
             f"{precision[section['trained_quantization']]}; scored here with the base in "
             f"{precision[section['quantization']]}) against its base model zero-shot, on the same "
             f"{section['users']} test users and candidates; each template asks in its own task form. Ranking "
             "templates report NDCG@10 over the 10 candidates, pointwise ones the AUC of the Yes-minus-No score, "
             "pairwise ones the share of (target, negative) pairs ordered right. Users: those the template could "
             "be rendered for (an I1/I2 template needs a target genre, P2 rated history).", ""]
    systems = section["systems"]
    for group, names in ASPECT_GROUPS.items():
        lines += [f"**{group}**", "", "| template | P | I | task | users | metric | zero-shot | tuned |",
                  "|---|---|---|---|---|---|---|---|"]
        for name in names:
            t = get_template(name)
            metric = MAIN_METRIC[t.task]
            cells = [f"{systems[s]['metrics'][name][metric]:.3f}" if name in systems[s]["metrics"] else "n/a"
                     for s in ("zero-shot", "tuned")]
            lines.append(f"| {name} | {t.preference} | {t.intention} | {t.task} | {systems['tuned']['users'][name]} "
                         f"| {metric} | {cells[0]} | {cells[1]} |")
        lines.append("")
    return lines


def transfer_markdown(section: dict) -> list[str]:
    domains = section["domains"]
    lines = ["ML-100K split into two domains by genre: an item belongs to a domain when all its genres are in it "
             "(items with genres on both sides belong to neither). "
             + "; ".join(f"**{name}**: {', '.join(genres)}" for name, genres in domains.items())
             + f". One LoRA adapter per domain, tuned from `{section['config']}` on that domain's log only "
             f"(full precision, {section['steps']} steps); each domain's test users rank their own target among 9 "
             "items of the same domain they never touched (`loo-random-10`). The transfer rows are the adapters "
             "tuned on the other domain.", ""]
    for name, result in section["results"].items():
        lines += _table(f"**test domain: {name}** ({result['items']} items, {result['interactions']} interactions)",
                        result, TRANSFER_COLUMNS)
    return lines


def _table(heading: str, result: dict, columns) -> list[str]:
    systems = result["systems"]
    return [heading, "", format_table(systems, {k: result["users"] for k in systems}, columns=columns), ""]


def cold_start_markdown(section: dict) -> list[str]:
    lines = [f"{section['cold_items']} of the test items (20% of the distinct ones) were made cold: none of their "
             "interactions is in training. Full ranking over every item the user has not touched; ties count "
             f"against the target. Tuned embeddings: adapter `{section['adapter']}`. An LM reranker of the "
             "retriever's top 20 is bounded by its HR@20.", ""]
    for group, result in section["groups"].items():
        lines += _table(f"**{group} test items** ({result['users']} users)", result, COLD_COLUMNS)
    return lines


TITLES = {"aspects": ("Per template and aspect", aspects_markdown),
          "transfer": ("Zero-shot transfer across genre domains", transfer_markdown),
          "cold_start": ("Cold start from item text", cold_start_markdown)}


def render(sections: dict) -> str:
    lines = ["# Instructions, transfer and cold start on ML-100K", "",
             "Generated by `python recipes/instruction_report.py` (every section; it evaluates the text-only adapter "
             "of `recipes/configs/demo-cpu.yaml`). One seed, small samples: read differences of a few points as "
             "noise.", ""]
    for key, (title, markdown) in TITLES.items():
        if key not in sections:
            continue
        section = sections[key]
        lines += [f"## {title}", "", f"`{section['command']}`, {section['minutes']:.0f} min on this machine.", ""]
        lines += markdown(section)
    return "\n".join(lines).rstrip() + "\n"


def run_report(sections: list[str], report: Path, settings: ReportSettings) -> str:
    """Run ``sections`` (none: only re-render), keeping the others' stored results; returns the report."""
    store = SectionStore(report, render)
    runners = {"aspects": run_aspects, "transfer": run_transfer, "cold_start": run_cold_start}
    for key in sections:
        command = f"python recipes/instruction_report.py --sections {key}" + (" --smoke" if settings.smoke else "")
        store.run(key, lambda: runners[key](settings), command=command)
    if not sections:
        store.rerender()
    return report.read_text()
