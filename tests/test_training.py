import json
from dataclasses import replace

import pytest
import torch
from training_helpers import tiny_configs

from instructrec_peft.config import parse_config
from instructrec_peft.errors import ArgumentError, ConfigError
from instructrec_peft.inference.candidates import rank_rows
from instructrec_peft.instructions.tokenization import PromptEncoder
from instructrec_peft.models.loading import load_tokenizer, lora_targets
from instructrec_peft.training.data import prepare_data
from instructrec_peft.training.trainer import InstructRecTrainer
from instructrec_peft.training.tuning import run_tuning


def build_trainer(tiny_assets, tmp_path, **overrides):
    model_args, data_args, train_args = tiny_configs(tiny_assets, tmp_path / "out", **overrides)
    tokenizer = load_tokenizer(model_args)
    encoder = PromptEncoder(tokenizer)
    data = prepare_data(data_args, encoder, seed=0)
    trainer = InstructRecTrainer(model_args=model_args, data_args=data_args, args=train_args, train_dataset=data.train,
                                 eval_dataset=data.valid, processing_class=tokenizer, catalog=data.log.catalog,
                                 encoder=encoder)
    return trainer, data


@pytest.mark.parametrize("arch, quantization, peft_method", [
    ("gpt2", "none", "lora"), ("gpt2", "4bit", "lora"), ("gpt2", "8bit", "lora"), ("llama", "none", "lora"),
    ("llama", "4bit", "lora"), ("gpt2", "none", "prompt_tuning"),
])
def test_training_changes_every_adapter_weight_and_no_base_weight(tiny_assets, tmp_path, arch, quantization,
                                                                   peft_method):
    trainer, _ = build_trainer(tiny_assets, tmp_path, arch=arch, quantization=quantization, peft_method=peft_method)
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    trainable = {name for name, p in trainer.model.named_parameters() if p.requires_grad}
    assert trainable, "nothing to train"
    if peft_method == "lora":
        assert all("lora_" in name for name in trainable)
    else:
        assert all("prompt_encoder" in name for name in trainable)
    trainer.train()
    after = dict(trainer.model.named_parameters())
    unchanged = sorted(n for n in trainable if torch.equal(before[n], after[n].detach()))
    moved = sorted(n for n in set(before) - trainable if not torch.equal(before[n], after[n].detach()))
    assert unchanged == [], f"trainable weights that did not move: {unchanged}"
    assert moved == [], f"frozen weights that moved: {moved}"


def test_lora_targets_follow_the_loaded_layers(tiny_assets):
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    plain = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"])
    assert lora_targets(plain) == ("all-linear", True)  # Conv1D: transposed weights
    assert lora_targets(plain, ["c_attn"]) == (["c_attn"], True)
    quantised = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"], device_map={"": "cpu"},
                                                     quantization_config=BitsAndBytesConfig(load_in_4bit=True))
    assert lora_targets(quantised) == ("all-linear", False)  # Linear4bit: not transposed
    llama = AutoModelForCausalLM.from_pretrained(tiny_assets["llama"])
    assert lora_targets(llama) == ("all-linear", False)
    assert lora_targets(llama, ["q_proj", "v_proj"]) == (["q_proj", "v_proj"], False)
    with pytest.raises(ValueError, match=r"ModelArguments.lora_target_modules: \['c_attn'\] match no module"):
        lora_targets(llama, ["c_attn"])


PROJECTIONS = {"gpt2": ["c_attn", "c_proj", "c_fc"],
               "llama": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}


@pytest.mark.parametrize("arch, quantised", [("gpt2", False), ("gpt2", True), ("llama", False)])
def test_all_linear_adapts_exactly_the_attention_and_mlp_projections(tiny_assets, arch, quantised):
    """PEFT's all-linear, as "auto" uses it, gives the same LoRA layers with the same initial
    weights and the same fan_in_fan_out as naming each architecture's projections."""
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    from instructrec_peft.config import ModelArguments
    from instructrec_peft.models.loading import peft_config

    kwargs = dict(device_map={"": "cpu"}, quantization_config=BitsAndBytesConfig(load_in_4bit=True)) \
        if quantised else {}
    wrapped = {}
    for targets in (["auto"], PROJECTIONS[arch]):
        model = AutoModelForCausalLM.from_pretrained(tiny_assets[arch], **kwargs)
        torch.manual_seed(0)
        args = ModelArguments(model_name_or_path=tiny_assets[arch], lora_target_modules=targets)
        wrapped[targets[0]] = get_peft_model(model, peft_config(args, model))
    layers = {key: {name: layer for name, layer in model.named_modules() if hasattr(layer, "lora_A")}
              for key, model in wrapped.items()}
    assert sorted(layers["auto"]) == sorted(layers[PROJECTIONS[arch][0]]) and len(layers["auto"]) > 0
    flags = {key: {module.fan_in_fan_out for module in found.values()} for key, found in layers.items()}
    assert flags["auto"] == flags[PROJECTIONS[arch][0]] == {arch == "gpt2" and not quantised}
    states = [{k: v for k, v in model.state_dict().items() if "lora_" in k} for model in wrapped.values()]
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_saved_adapter_reproduces_the_trained_scores(tiny_assets, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    trainer, data = build_trainer(tiny_assets, tmp_path)
    trainer.train()
    trainer.save_model()
    trained, _ = rank_rows(trainer.model, trainer.encoder, data.valid, data.log.catalog, progress=False)
    base = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"])
    untrained, _ = rank_rows(base, trainer.encoder, data.valid, data.log.catalog, progress=False)
    loaded = PeftModel.from_pretrained(base, str(tmp_path / "out"))
    reloaded, _ = rank_rows(loaded, trainer.encoder, data.valid, data.log.catalog, progress=False)
    assert torch.allclose(torch.tensor(reloaded), torch.tensor(trained), atol=1e-5)
    assert not torch.allclose(torch.tensor(untrained), torch.tensor(trained), atol=1e-3)  # training did something


def test_run_writes_the_expected_files_and_evaluates(tiny_assets, tmp_path):
    result = run_tuning(*tiny_configs(tiny_assets, tmp_path / "out", eval_strategy="steps", eval_steps=2))
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "adapter_config.json", "adapter_model.safetensors", "all_results.json", "eval_results.json",
        "instructrec_config.json", "instructrec_manifest.json", "instructrec_run.json", "tokenizer.json",
        "tokenizer_config.json", "train_results.json", "trainer_state.json"]  # no training_args.bin: a pickle
    record = json.loads((out / "instructrec_run.json").read_text())  # one commit: every file's sha256 but the card's
    assert sorted(record["files"]) == [
        "adapter_config.json", "adapter_model.safetensors", "all_results.json", "eval_results.json",
        "instructrec_config.json", "instructrec_manifest.json", "tokenizer.json", "tokenizer_config.json",
        "train_results.json", "trainer_state.json"] and record["documents"] == ["README.md"]
    manifest = json.loads((out / "instructrec_manifest.json").read_text())
    assert manifest["eval_template"] == "p1-i0-matching-1"
    assert {t["task"] for t in manifest["templates"]} == {"matching"}
    evals = json.loads((out / "eval_results.json").read_text())
    assert evals["eval_users"] == 6 and set(result.eval_metrics) >= {"eval_ndcg@10", "eval_hr@1", "eval_mrr"}
    state = json.loads((out / "trainer_state.json").read_text())
    assert [e["step"] for e in state["log_history"] if "eval_ndcg@10" in e] == [2, 3]
    assert json.loads((out / "train_results.json").read_text())["world_size"] == 1
    saved = json.loads((out / "instructrec_config.json").read_text())
    assert saved["model"]["lora_r"] == 4 and "hub_token" not in saved["training"]


def test_tokens_trained_on_are_counted_without_padding(tiny_assets, tmp_path):
    # 12 examples, 3 steps of 4: one pass over every example, so the count is their total length.
    result = run_tuning(*tiny_configs(tiny_assets, tmp_path / "out", max_train_examples=12))
    lengths = [len(ids) for ids in result.trainer.train_dataset["input_ids"]]
    assert len(lengths) == 12 and len(set(lengths)) > 1  # padding would be counted if it were
    state = json.loads((tmp_path / "out" / "trainer_state.json").read_text())
    assert state["num_input_tokens_seen"] == sum(lengths)
    metrics = result.train_metrics
    assert metrics["train_tokens"] == sum(lengths)
    assert metrics["train_tokens_per_second"] == pytest.approx(sum(lengths) / metrics["train_runtime"])


def test_resume_from_checkpoint_continues_at_the_right_step(tiny_assets, tmp_path):
    from safetensors.torch import load_file

    common = dict(max_steps=4, save_strategy="steps", save_steps=2, save_total_limit=None)
    run_tuning(*tiny_configs(tiny_assets, tmp_path / "full", **common))
    checkpoint = tmp_path / "full" / "checkpoint-2"
    assert checkpoint.is_dir() and (checkpoint / "instructrec_manifest.json").is_file()
    resumed_args = tiny_configs(tiny_assets, tmp_path / "resumed", resume_from_checkpoint=str(checkpoint), **common)
    run_tuning(*resumed_args)
    state = json.loads((tmp_path / "resumed" / "trainer_state.json").read_text())
    assert state["global_step"] == 4
    assert [e["step"] for e in state["log_history"] if "loss" in e] == [1, 2, 3, 4]  # 1-2 restored, 3-4 new
    full = load_file(tmp_path / "full" / "adapter_model.safetensors")
    resumed = load_file(tmp_path / "resumed" / "adapter_model.safetensors")
    assert full.keys() == resumed.keys()
    for key in full:
        assert torch.allclose(full[key], resumed[key], atol=1e-6), key


@pytest.mark.parametrize("argv, message", [
    (["--lora_r", "0"], "ModelArguments.lora_r: must be >= 1, got 0"),
    (["--quantization", "3bit"], "argument --quantization: invalid choice: '3bit' (choose from 'none', '8bit', "
                                 "'4bit')"),
    (["--gguf_file", "m.gguf", "--quantization", "4bit"],
     "ModelArguments.quantization: cannot be combined with gguf_file"),
    (["--peft_method", "prompt_tuning", "--lora_target_modules", "c_attn"],
     "ModelArguments.lora_target_modules: only applies to peft_method=lora"),
    (["--task_mix", "matchng=1"], "DataArguments.task_mix: unknown task form 'matchng'"),
    (["--eval_template", "p1-i0-pointwise-1"],
     "DataArguments.eval_template: 'p1-i0-pointwise-1' is a pointwise template"),
    (["--eval_template", "p1-i0-matchin-1"], "DataArguments.eval_template: unknown template 'p1-i0-matchin-1'"),
    (["--num_candidates", "1"], "DataArguments.num_candidates: must be >= 2, got 1"),
    (["--metric_for_best_model", "ndcg@20"], "InstructRecConfig.metric_for_best_model: 'ndcg@20' is not a reported"),
    (["--scoring_method", "fast"], "invalid choice: 'fast' (choose from 'auto', 'shared_prefix', 'batched')"),
])
def test_bad_configs_name_the_field(tmp_path, argv, message):
    config = tmp_path / "c.yaml"
    config.write_text("model_name_or_path: some/model\n")
    with pytest.raises(ValueError) as err:
        parse_config([str(config), *argv])
    assert message in str(err.value)


def test_a_fields_choices_are_declared_once_for_help_flags_and_yaml(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("model_name_or_path: some/model\nquantization: 3bit\n")
    with pytest.raises(ConfigError, match=r"^ModelArguments.quantization: '3bit' is not one of \('none', '8bit', "
                                          r"'4bit'\)$"):
        parse_config([str(config)])
    config.write_text("model_name_or_path: some/model\nrequest_kinds: [I1, I3]\n")
    with pytest.raises(ConfigError, match=r"^DataArguments.request_kinds: \['I3'\] is not one of"):
        parse_config([str(config)])
    with pytest.raises(SystemExit) as exit_:
        parse_config(["--help"])
    shown = capsys.readouterr().out
    assert exit_.value.code == 0 and "--quantization {none,8bit,4bit}" in shown
    assert "--negatives {random,bpr,sasrec}" in shown and "--item_token_init {text,text+bpr,text+sasrec}" in shown


def test_unknown_yaml_field_is_refused(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("model_name_or_path: some/model\nlerning_rate: 0.1\n")
    with pytest.raises(ValueError) as err:
        parse_config([str(config)])
    assert str(err.value) == f"{config}: unknown config field 'lerning_rate'; did you mean 'learning_rate'?"


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("padding_free,completion_only", [(False, True), (True, False), (True, True)])
def test_fast_paths_give_the_same_loss_and_gradients(tiny_assets, arch, attn, padding_free, completion_only):
    """Completion-only logits and padding-free packing, alone and together, against padded full logits."""
    from transformers import AutoModelForCausalLM

    from instructrec_peft.models.losses import completion_loss, completion_positions
    from instructrec_peft.training.collator import CompletionOnlyCollator

    tokenizer = load_tokenizer(tiny_configs(tiny_assets, "unused", arch=arch)[0])
    encoder = PromptEncoder(tokenizer)
    features = [encoder.encode("The user watched Film A0 (1980), Film B1 (1981). Which movie next?", "Film C2 (1982)"),
                encoder.encode("Answer Yes or No.", "Yes"),
                encoder.encode("Which movie will the user watch next? Film D3 (1983)", "Film E4 (1984)")]
    model = AutoModelForCausalLM.from_pretrained(tiny_assets[arch], attn_implementation=attn).eval()
    plain = CompletionOnlyCollator.from_tokenizer(tokenizer)(features)
    loss_plain = model(**plain).loss
    grads_plain = torch.autograd.grad(loss_plain, list(model.parameters()))

    batch = CompletionOnlyCollator.from_tokenizer(tokenizer, padding_free=padding_free)(features)
    labels = batch.pop("labels")
    if padding_free:
        assert batch["input_ids"].shape == (1, sum(len(f["input_ids"]) for f in features))
        del batch["attention_mask"]  # as the trainer does: the packing is read from position_ids
        batch["use_cache"] = False
    if completion_only:
        keep = completion_positions(labels)
        outputs = model(**batch, logits_to_keep=keep)
        assert outputs.logits.shape[0] == int(keep.sum()) == sum(sum(x != -100 for x in f["labels"]) for f in features)
        loss_fast = completion_loss(outputs, labels)
    else:
        loss_fast = model(**batch, labels=labels).loss
    grads_fast = torch.autograd.grad(loss_fast, list(model.parameters()))
    assert torch.allclose(loss_fast, loss_plain, atol=1e-5)
    for fast, slow in zip(grads_fast, grads_plain):
        assert torch.allclose(fast, slow, atol=1e-5)
    if completion_only:
        # With an accumulation-wide token count, the sum is divided by that count instead.
        assert torch.allclose(completion_loss(outputs, labels, num_items_in_batch=40),
                              loss_plain * (labels != -100).sum() / 40, atol=1e-5)


def test_padding_free_training_counts_the_same_tokens_and_learns_the_same_adapter(tiny_assets, tmp_path):
    from safetensors.torch import load_file

    runs = {}
    for padding_free in (False, True):
        out = tmp_path / f"pf{padding_free}"
        # The tiny Llama has no dropout (GPT-2's would draw different masks for different batch shapes).
        result = run_tuning(*tiny_configs(tiny_assets, out, arch="llama", max_train_examples=12,
                                          padding_free=padding_free))
        assert result.trainer.padding_free is padding_free
        runs[padding_free] = (result, load_file(out / "adapter_model.safetensors"))
    (plain, plain_weights), (packed, packed_weights) = runs[False], runs[True]
    assert packed.train_metrics["train_tokens"] == plain.train_metrics["train_tokens"] == sum(
        len(ids) for ids in plain.trainer.train_dataset["input_ids"])
    assert packed.train_metrics["train_loss"] == pytest.approx(plain.train_metrics["train_loss"], abs=1e-4)
    for name, weight in plain_weights.items():
        assert torch.allclose(packed_weights[name], weight, atol=1e-4), name


def test_padding_free_falls_back_to_length_grouping_when_attention_mixes_packed_examples(tiny_assets, tmp_path,
                                                                                         monkeypatch, caplog):
    from transformers import AutoModelForCausalLM

    import instructrec_peft.training.trainer as trainer_module
    from instructrec_peft.training.packing import isolates_packed_sequences

    model = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"]).train()
    assert isolates_packed_sequences(model) and model.training  # the check leaves the mode alone
    monkeypatch.setattr(trainer_module, "isolates_packed_sequences", lambda model: False)
    model_args, data_args, train_args = tiny_configs(tiny_assets, tmp_path / "out", padding_free=True)
    trainer = InstructRecTrainer(model_args=model_args, data_args=data_args, args=train_args)
    assert not trainer.padding_free and not trainer.data_collator.padding_free
    assert trainer.args.train_sampling_strategy == "group_by_length"
    assert "lets packed examples see each other" in caplog.text


def test_package_exposes_the_training_api_lazily():
    import instructrec_peft as ir

    assert ir.InstructRecTrainer is InstructRecTrainer
    assert ir.run_tuning is run_tuning
    from instructrec_peft.inference.recommender import Recommender

    assert ir.Recommender is Recommender and set(ir._LAZY) <= set(ir.__all__)
    with pytest.raises(AttributeError, match="has no attribute 'Trainer'"):
        ir.Trainer


def test_the_trainer_takes_a_peft_config_as_trl_does(tiny_assets, tmp_path):
    from peft import LoraConfig

    model_args, _, train_args = tiny_configs(tiny_assets, tmp_path / "out")
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["c_attn"], fan_in_fan_out=True, task_type="CAUSAL_LM")
    trainer = InstructRecTrainer(model_args=model_args, args=train_args, peft_config=config)
    used = trainer.model.peft_config["default"]
    assert (used.r, used.target_modules) == (2, {"c_attn"})
    # Only c_attn of the 2 layers (64 in, 192 out) adapts, at rank 2: 2 * 2 * (64 + 192) weights.
    assert trainer.model.get_nb_trainable_parameters()[0] == 1024
    with pytest.raises(ArgumentError, match="peft_config and ModelArguments.init_adapter"):
        InstructRecTrainer(model_args=replace(model_args, init_adapter=str(tmp_path)), args=train_args,
                           peft_config=config)
