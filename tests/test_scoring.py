import pytest
import torch
from transformers import AutoModelForCausalLM

from instructrec_peft.inference import scoring
from instructrec_peft.inference.scoring import score_candidates

continue_batched = scoring._continue_batched

PROMPT = [5, 6, 7, 8, 9, 10, 11]
CANDIDATES = [[12, 13, 0], [14, 0], [15, 16, 17, 18, 0], [0]]


def naive(model, prompt, candidates):
    model.eval()
    out = []
    with torch.no_grad():
        for candidate in candidates:
            logits = model(torch.tensor([prompt + candidate])).logits[0, :-1]
            logprobs = torch.log_softmax(logits, dim=-1)[len(prompt) - 1:]
            out.append(logprobs.gather(1, torch.tensor(candidate)[:, None]).mean().item())
    return torch.tensor(out)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_shared_prefix_and_batched_equal_naive_scoring(tiny_assets, arch, attention):
    model = AutoModelForCausalLM.from_pretrained(tiny_assets[arch], attn_implementation=attention)
    model.train()  # scoring must switch dropout off itself, and restore the mode after
    expected = naive(model, PROMPT, CANDIDATES)
    model.train()
    shared = score_candidates(model, PROMPT, CANDIDATES, method="shared_prefix")
    batched = score_candidates(model, PROMPT, CANDIDATES, method="batched")
    library_naive = score_candidates(model, PROMPT, CANDIDATES, method="naive")
    assert model.training
    assert torch.allclose(library_naive, expected, atol=1e-6)
    assert torch.allclose(shared, expected, atol=1e-5)
    assert torch.allclose(batched, expected, atol=1e-5)
    summed = score_candidates(model, PROMPT, CANDIDATES, normalize=False)
    assert torch.allclose(summed, expected * torch.tensor([3.0, 2.0, 5.0, 1.0]), atol=1e-4)


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_shared_prefix_without_custom_masks_repeats_the_cache(tiny_assets, arch, monkeypatch):
    # Flash kernels take no 4D mask: the candidates then run as a padded batch over a repeated cache.
    model = AutoModelForCausalLM.from_pretrained(tiny_assets[arch])
    packed = score_candidates(model, PROMPT, CANDIDATES, method="shared_prefix")
    monkeypatch.setattr(scoring, "_attention", lambda model: "flash_attention_2")
    calls = []
    monkeypatch.setattr(scoring, "_continue_batched",
                        lambda *args: calls.append(len(args[3])) or continue_batched(*args))
    repeated = score_candidates(model, PROMPT, CANDIDATES, method="shared_prefix")
    assert calls == [4]
    assert torch.allclose(repeated, packed, atol=1e-5)
    assert torch.allclose(repeated, naive(model, PROMPT, CANDIDATES), atol=1e-5)


def test_single_token_candidates_are_scored_from_the_prefix_alone(tiny_assets):
    model = AutoModelForCausalLM.from_pretrained(tiny_assets["llama"])
    candidates = [[0], [7], [3]]
    assert torch.allclose(score_candidates(model, PROMPT, candidates), naive(model, PROMPT, candidates), atol=1e-5)


def test_scoring_errors(tiny_assets):
    model = AutoModelForCausalLM.from_pretrained(tiny_assets["gpt2"])
    with pytest.raises(ValueError, match="no candidates"):
        score_candidates(model, PROMPT, [])
    with pytest.raises(ValueError, match="unknown scoring method 'fast'"):
        score_candidates(model, PROMPT, CANDIDATES, method="fast")
    with pytest.raises(ValueError, match="the prompt is empty"):
        score_candidates(model, [], CANDIDATES)


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_prompt_tuning_scores_agree_across_methods(tiny_assets, arch):
    from peft import PromptTuningConfig, TaskType, get_peft_model

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_assets[arch])
    model = get_peft_model(base, PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=5))
    with torch.no_grad():  # random, visible virtual tokens
        model.prompt_encoder["default"].embedding.weight.normal_(std=1.0)
    shared = score_candidates(model, PROMPT, CANDIDATES, method="shared_prefix")
    batched = score_candidates(model, PROMPT, CANDIDATES, method="batched")
    naive_peft = score_candidates(model, PROMPT, CANDIDATES, method="naive")
    plain = score_candidates(base, PROMPT, CANDIDATES, method="naive")
    assert torch.allclose(shared, batched, atol=1e-5)
    assert torch.allclose(shared, naive_peft, atol=1e-5)
    assert not torch.allclose(shared, plain, atol=1e-3)  # the virtual tokens do take part


def test_the_configs_scoring_choices_are_scoring_methods():
    from instructrec_peft.config.training import SCORING

    assert SCORING[0] == "auto" and set(SCORING[1:]) <= set(scoring.SCORING_METHODS)
    assert "naive" not in SCORING  # the slow reference is for tests and the speed table only
