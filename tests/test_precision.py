"""precision: auto | fp32 | bf16 | fp16: what auto picks on which hardware (capabilities mocked),
and a bf16 run on this CPU: frozen base in bf16, trained weights in float32, loading as trained."""

import json

import pytest
import torch
from training_helpers import tiny_configs

from instructrec_peft.config import InstructRecConfig, ModelArguments, precision
from instructrec_peft.config.precision import resolve_precision, with_precision


@pytest.mark.parametrize("cuda, cuda_bf16, cpu_bf16, expected", [
    (False, False, True, "bf16"),    # a CPU with AVX512-BF16 or AMX
    (False, False, False, "fp32"),   # a CPU without: bf16 would be emulated, slower than float32
    (True, True, False, "bf16"),     # Ampere and later
    (True, False, True, "fp16"),     # an older GPU: float16 with loss scaling
])
def test_auto_picks_the_fastest_native_format(monkeypatch, cuda, cuda_bf16, cpu_bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(precision, "cuda_has_bf16", lambda: cuda_bf16)
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: cpu_bf16)
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: cuda)
    assert resolve_precision("auto") == expected
    assert resolve_precision("fp32") == "fp32" and resolve_precision("bf16") == "bf16"


def test_another_accelerator_keeps_float32_unless_told(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: True)  # MPS, or an XPU without bf16
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    if hasattr(torch, "xpu"):
        monkeypatch.setattr(torch.xpu, "is_available", lambda: False)
    assert resolve_precision("auto") == "fp32"


def test_cpu_bf16_follows_torch_capability_checks(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert precision.cpu_has_bf16()
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert not precision.cpu_has_bf16()


def test_the_config_sets_trainer_autocast_flags(monkeypatch, tmp_path):
    import instructrec_peft.config.training as training_config

    # The config module holds its own reference to resolve_precision: patched there, this test
    # reads the same on a CPU with bf16 and on one without.
    monkeypatch.setattr(training_config, "resolve_precision", lambda requested="auto": "bf16" if requested == "auto"
                        else requested)
    config = InstructRecConfig(output_dir=str(tmp_path))
    assert (config.precision, config.resolved_precision, config.bf16, config.fp16) == ("auto", "bf16", True, False)
    config = InstructRecConfig(output_dir=str(tmp_path), precision="fp32")
    assert (config.resolved_precision, config.bf16, config.fp16) == ("fp32", False, False)
    config = InstructRecConfig(output_dir=str(tmp_path), bf16=True)  # TrainingArguments' own flag still works
    assert config.resolved_precision == "bf16"
    with pytest.raises(ValueError, match="InstructRecConfig.precision: 'fp32' contradicts bf16: true"):
        InstructRecConfig(output_dir=str(tmp_path), precision="fp32", bf16=True)
    with pytest.raises(ValueError, match=r"InstructRecConfig.precision: 'half' is not one of \('auto', 'fp32'"):
        InstructRecConfig(output_dir=str(tmp_path), precision="half")


def test_auto_weight_dtypes_follow_the_precision():
    args = ModelArguments(model_name_or_path="x")
    assert (with_precision(args, "bf16").dtype, with_precision(args, "bf16").bnb_4bit_compute_dtype) == (
        "bfloat16", "bfloat16")
    assert with_precision(args, "fp32").dtype == "float32"
    assert with_precision(ModelArguments(model_name_or_path="x", dtype="float32"), "bf16").dtype == "float32"
    qlora = ModelArguments(model_name_or_path="x", quantization="4bit")
    assert (with_precision(qlora, "fp16").dtype, with_precision(qlora, "fp16").bnb_4bit_compute_dtype) == (
        "float32", "float16")


@pytest.mark.parametrize("item_tokens", [False, True], ids=["text", "item tokens"])
def test_a_bf16_run_trains_float32_weights_on_a_bf16_base_and_loads_as_trained(tiny_assets, tmp_path, item_tokens):
    from instructrec_peft.inference.recommender import Recommender
    from instructrec_peft.training.tuning import run_tuning

    out = tmp_path / "out"
    extra = dict(item_tokens=True, item_token_init="text", max_history_items=5) if item_tokens else {}
    result = run_tuning(*tiny_configs(tiny_assets, out, precision="bf16", max_steps=2, eval_strategy="steps",
                                      eval_steps=2, **extra))
    model = result.trainer.model
    trained = {p.dtype for p in model.parameters() if p.requires_grad}
    frozen = {p.dtype for n, p in model.named_parameters() if not p.requires_grad and "base_layer" in n}
    assert trained == {torch.float32} and frozen == {torch.bfloat16}
    assert result.trainer.args.bf16 and all(torch.isfinite(torch.tensor(h["loss"])) for h in
                                            result.trainer.state.log_history if "loss" in h)
    saved = json.loads((out / "instructrec_config.json").read_text())
    assert (saved["model"]["dtype"], saved["training"]["precision"]) == ("bfloat16", "bf16")
    card = (out / "README.md").read_text()  # its plain-PEFT snippet loads the base as trained and evaluated
    assert 'from_pretrained("' in card and '", dtype=torch.bfloat16)' in card
    assert "in bfloat16 for training and evaluation (the LoRA weights in float32)" in card
    trainer = result.trainer
    rec = Recommender.from_pretrained(str(out), catalog=None if item_tokens else trainer.catalog)
    assert next(rec.model.get_base_model().parameters()).dtype == torch.bfloat16
    # Loaded as trained: the Recommender scores the validation rows as the trainer's evaluation did.
    if item_tokens:
        from instructrec_peft.inference.item_scoring import score_rows

        rows = list(trainer.eval_dataset)
        expected = score_rows(trainer.model, trainer.encoder, trainer.space.tokens, rows, progress=False)
        assert expected.dtype == "float32" and len(set(expected[0].tolist())) == len(trainer.space.tokens)  # no ties
        assert (score_rows(rec.model, trainer.encoder, rec.item_tokens, rows, progress=False) == expected).all()
    else:
        from instructrec_peft.evaluation.metrics.formulas import ranking_metrics, target_ranks

        metrics, catalog, scores, targets = trainer.evaluate(), trainer.catalog, [], []
        for row in trainer.eval_dataset:
            scores.append(rec.score([catalog.text(i) for i in row["history"]],
                                    [catalog.text(i) for i in row["candidates"]]))
            targets.append(row["candidates"].index(row["target"]))
        expected = ranking_metrics(target_ranks(scores, targets), (1, 3, 5, 10))
        assert {k: metrics[f"eval_{k}"] for k in expected} == pytest.approx(expected, abs=1e-12)


def test_a_qlora_run_computes_in_bf16_on_a_4bit_base(tiny_assets, tmp_path):
    from instructrec_peft.training.tuning import run_tuning

    out = tmp_path / "out"
    result = run_tuning(*tiny_configs(tiny_assets, out, precision="bf16", quantization="4bit", max_steps=2))
    losses = [h["loss"] for h in result.trainer.state.log_history if "loss" in h]
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))
    saved = json.loads((out / "instructrec_config.json").read_text())["model"]
    # 4-bit weights, bf16 matmuls, the layers bitsandbytes leaves unquantised in bf16 too.
    assert (saved["bnb_4bit_compute_dtype"], saved["dtype"]) == ("bfloat16", "bfloat16")
