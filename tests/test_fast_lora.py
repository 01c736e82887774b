"""The two step-time savings of training/fast_lora.py: cheaper dropout masks, no input casts under autocast."""

import pytest
import torch

from instructrec_peft.errors import ArgumentError
from instructrec_peft.training.fast_lora import (
    FastDropout,
    lora_input_layers,
    lora_inputs_in_autocast,
    use_fast_dropout,
)


def test_fast_dropout_is_inverted_bernoulli_dropout():
    torch.manual_seed(0)
    drop = FastDropout(0.05)
    x = torch.rand(1000, 1000) + 1.0  # no zeros: a zero in the output is a dropped element
    y = drop(x)
    kept = y != 0
    # Keep probability 1 - round(0.05 * 65536) / 65536 = 0.949996...; 10^6 draws: sd 0.0002.
    assert abs(kept.float().mean().item() - (1 - 3277 / 65536)) < 0.001
    assert torch.equal(y[kept], x[kept] * (1 / 0.95))
    x.requires_grad_(True)
    out = drop(x)
    out.sum().backward()
    assert torch.equal(x.grad, (out != 0).float() * (1 / 0.95))
    drop.eval()
    assert drop(x) is x
    assert FastDropout(0.0).train()(x) is x
    with pytest.raises(ArgumentError, match=r"dropout probability must be in \[0, 1\), got 1.0"):
        FastDropout(1.0)


def test_fast_dropout_masks_are_independent_across_calls_and_seeded():
    drop = FastDropout(0.5)
    x = torch.ones(64, 64)
    torch.manual_seed(3)
    a, b = drop(x), drop(x)
    torch.manual_seed(3)
    assert torch.equal(drop(x), a) and not torch.equal(a, b)
    assert abs((a != 0).float().mean().item() - 0.5) < 0.05


def test_every_lora_dropout_is_replaced_and_the_adapter_saves_the_same(tiny_assets, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_assets["llama"]),
                           LoraConfig(target_modules="all-linear", lora_dropout=0.1, task_type="CAUSAL_LM"))
    before = set(model.state_dict())
    lora_layers = [m for m in model.modules() if hasattr(m, "lora_A")]
    assert use_fast_dropout(model) == len(lora_layers) == 14
    assert all(isinstance(m.lora_dropout["default"], FastDropout) and m.lora_dropout["default"].p == 0.1
               for m in lora_layers)
    assert set(model.state_dict()) == before and use_fast_dropout(model) == 0


def test_lora_inputs_skip_the_cast_inside_the_context_only(tiny_assets):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_assets["llama"], dtype=torch.bfloat16)
    model = get_peft_model(base, LoraConfig(target_modules="all-linear", task_type="CAUSAL_LM",
                                            trainable_token_indices={"embed_tokens": [1, 2]}))
    layers = lora_input_layers(model)
    assert layers and all(m.cast_input_dtype_enabled for m in layers)
    ids = torch.tensor([[1, 5, 7, 2, 9]])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        cast = model(input_ids=ids, labels=ids).loss
        with lora_inputs_in_autocast(layers):
            assert not any(m.cast_input_dtype_enabled for m in layers)
            uncast = model(input_ids=ids, labels=ids).loss
    assert all(m.cast_input_dtype_enabled for m in layers)
    # LoRA B starts at zero: the adapted model is the base either way, in bf16 arithmetic.
    assert torch.isclose(cast, uncast, atol=1e-2)
    with lora_inputs_in_autocast([]):
        assert all(m.cast_input_dtype_enabled for m in layers)
