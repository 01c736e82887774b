"""The same seed gives the same examples, candidates, adapter and metrics on CPU."""

import torch
from safetensors.torch import load_file
from training_helpers import tiny_configs

from instructrec_peft.config import DataArguments, ModelArguments
from instructrec_peft.instructions.tokenization import PromptEncoder
from instructrec_peft.models.loading import load_tokenizer
from instructrec_peft.training.data import prepare_data
from instructrec_peft.training.tuning import run_tuning


def test_same_seed_same_examples_and_candidates(tiny_assets):
    encoder = PromptEncoder(load_tokenizer(ModelArguments(model_name_or_path=tiny_assets["gpt2"])))
    args = DataArguments(dataset=tiny_assets["data"], task_mix="matching=1,reranking=1,pointwise=1",
                         examples_per_user=3)
    first, second = prepare_data(args, encoder, seed=7), prepare_data(args, encoder, seed=7)
    assert first.train.to_list() == second.train.to_list()
    assert first.valid.to_list() == second.valid.to_list()
    other = prepare_data(args, encoder, seed=8)
    assert other.valid["candidates"] != first.valid["candidates"]  # the seed does decide them


def test_same_seed_same_adapter_and_metrics(tiny_assets, tmp_path):
    runs = [run_tuning(*tiny_configs(tiny_assets, tmp_path / name, eval_strategy="steps", eval_steps=3))
            for name in ("a", "b")]
    ranking = [{k: v for k, v in run.eval_metrics.items() if not k.endswith(("_runtime", "_per_second"))}
               for run in runs]
    assert "eval_ndcg@10" in ranking[0] and ranking[0] == ranking[1]
    first, second = (load_file(tmp_path / name / "adapter_model.safetensors") for name in ("a", "b"))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
