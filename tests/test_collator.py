import copy

import pytest
import torch

from instructrec_peft.instructions.tokenization import PromptEncoder, ensure_pad_token
from instructrec_peft.training.collator import CompletionOnlyCollator

CHAT = ("{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} . {% endfor %}"
        "{% if add_generation_prompt %}Answer : {% endif %}")


@pytest.fixture
def gpt2_style(word_tokenizer):
    tokenizer = copy.deepcopy(word_tokenizer)
    assert tokenizer.pad_token is None
    return tokenizer


def test_pad_token_reuses_eos_without_growing_the_vocabulary(gpt2_style):
    size = len(gpt2_style)
    assert ensure_pad_token(gpt2_style) is True
    assert (gpt2_style.pad_token, gpt2_style.pad_token_id, len(gpt2_style)) == ("<|endoftext|>", 0, size)
    assert ensure_pad_token(gpt2_style) is False


def test_exact_ids_and_label_mask_without_chat_template(gpt2_style):
    ensure_pad_token(gpt2_style)
    encoder = PromptEncoder(gpt2_style)
    assert encoder.chat_template is False
    first = encoder.encode("The user watched Alien Heat", "Fargo")
    second = encoder.encode("Is Alien next ?", "Yes")
    assert first == {"input_ids": [2, 3, 4, 5, 6, 7, 0], "labels": [-100, -100, -100, -100, -100, 7, 0]}
    assert second == {"input_ids": [9, 5, 15, 16, 18, 0], "labels": [-100, -100, -100, -100, 18, 0]}
    batch = CompletionOnlyCollator.from_tokenizer(gpt2_style, pad_to_multiple_of=4)([first, second])
    assert batch["input_ids"].tolist() == [[2, 3, 4, 5, 6, 7, 0, 0], [9, 5, 15, 16, 18, 0, 0, 0]]
    # The EOS that ends each completion is learned although it equals the pad id; padding is not.
    assert batch["labels"].tolist() == [[-100, -100, -100, -100, -100, 7, 0, -100],
                                        [-100, -100, -100, -100, 18, 0, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 0, 0]]


def test_exact_label_mask_with_a_chat_template(gpt2_style):
    ensure_pad_token(gpt2_style)
    gpt2_style.chat_template = CHAT
    encoder = PromptEncoder(gpt2_style)
    assert encoder.chat_template is True
    assert encoder.prompt_text("Is Alien next ?") == "user : Is Alien next ? . Answer : "
    assert encoder.encode("Is Alien next ?", "Yes") == {
        "input_ids": [3, 24, 9, 5, 15, 16, 21, 17, 24, 18, 0],
        "labels": [-100] * 9 + [18, 0],
    }
    assert encoder.count_tokens("Is Alien next ?") == 9
    plain = PromptEncoder(gpt2_style, chat_template=False)
    assert plain.encode("Is Alien next ?", "Yes")["input_ids"] == [9, 5, 15, 16, 18, 0]


def test_encoder_refuses_what_it_cannot_do(gpt2_style):
    with pytest.raises(ValueError, match="chat_template=True, but the tokenizer has no chat template"):
        PromptEncoder(gpt2_style, chat_template=True)
    encoder = PromptEncoder(gpt2_style, max_length=5)
    with pytest.raises(ValueError, match=r"an example of 7 tokens \(5 prompt \+ 2 completion\) exceeds max_length=5"):
        encoder.encode("The user watched Alien Heat", "Fargo")


def test_collator_errors():
    with pytest.raises(ValueError, match="pad_token_id is None"):
        CompletionOnlyCollator(pad_token_id=None)
    collate = CompletionOnlyCollator(pad_token_id=0, pad_to_multiple_of=None)
    with pytest.raises(ValueError, match="feature 0: 1 labels for 2 input ids"):
        collate([{"input_ids": [1, 2], "labels": [2]}])
    with pytest.raises(ValueError, match="empty batch"):
        collate([])
    assert collate([{"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}])["input_ids"].shape == (1, 3)


def test_loss_covers_only_completion_and_eos_on_a_tiny_gpt2(bpe_tokenizer, tiny_gpt2):
    tokenizer = copy.deepcopy(bpe_tokenizer)
    ensure_pad_token(tokenizer)
    encoder = PromptEncoder(tokenizer)
    pairs = [("The user watched Alien (1979). Which movie next?", "Heat (1995)"),
             ("Answer Yes or No.", "Yes")]
    features = [encoder.encode(p, c) for p, c in pairs]
    batch = CompletionOnlyCollator.from_tokenizer(tokenizer)(features)
    completion_tokens = [len(tokenizer(c, add_special_tokens=False)["input_ids"]) + 1 for _, c in pairs]
    assert (batch["labels"] != -100).sum(dim=1).tolist() == completion_tokens
    with torch.no_grad():
        loss = tiny_gpt2(**batch).loss
        logits = tiny_gpt2(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    # Next-token cross-entropy over the supervised positions only, computed by hand.
    targets = batch["labels"][:, 1:]
    mask = targets != -100
    log_probs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    picked = log_probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    manual = -(picked * mask).sum() / mask.sum()
    assert torch.allclose(loss, manual, atol=1e-6)
