"""Tiny models, tokenizers and datasets built locally for tests (no network, seconds to make)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

GENRES = ["Action", "Comedy", "Drama", "Horror", "Romance"]
N_ITEMS, N_USERS, PER_USER = 40, 24, 8


def write_toy_recbole(directory: Path, name: str = "toy", seed: int = 0) -> Path:
    """A RecBole dataset: N_USERS users x PER_USER interactions over N_ITEMS titled items."""
    rng = np.random.default_rng(seed)
    folder = Path(directory) / name
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    lines += [f"{i}\tFilm {chr(65 + i % 26)}{i}\t{1980 + i}\t{GENRES[i % 5]}" for i in range(N_ITEMS)]
    (folder / f"{name}.item").write_text("\n".join(lines) + "\n")
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    for u in range(N_USERS):
        for t, i in enumerate(rng.choice(N_ITEMS, PER_USER, replace=False)):
            lines.append(f"u{u}\t{i}\t{int(rng.integers(1, 6))}\t{t}")
    (folder / f"{name}.inter").write_text("\n".join(lines) + "\n")
    return folder


TOY_CORPUS = ([f"Film {chr(65 + i % 26)}{i} ({1980 + i})" for i in range(N_ITEMS)]
              + ["The user watched the following movies, oldest first: Which movie will the user watch next?",
                 "Answer Yes or No. Choose one of the following candidates and answer with its label."] * 5)


def train_bpe_tokenizer(vocab_size: int = 300, corpus: list[str] | None = None):
    """A byte-level BPE tokenizer (GPT-2's scheme) trained here on ``corpus`` (the toy catalogue's
    titles and the templates' words by default)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    core.train_from_iterator(TOY_CORPUS if corpus is None else corpus, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                   model_max_length=512)


def tiny_model(vocab_size: int, arch: str = "gpt2", seed: int = 0, n_positions: int = 512):
    """A 2-layer GPT-2 (Conv1D projections) or Llama (Linear projections, tied head), in eval mode."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    if arch == "gpt2":
        return GPT2LMHeadModel(GPT2Config(vocab_size=vocab_size, n_positions=n_positions, n_embd=64, n_layer=2,
                                          n_head=4, bos_token_id=0, eos_token_id=0, pad_token_id=0)).eval()
    return LlamaForCausalLM(LlamaConfig(vocab_size=vocab_size, hidden_size=64, intermediate_size=128,
                                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                        max_position_embeddings=n_positions, bos_token_id=0, eos_token_id=0,
                                        pad_token_id=0, tie_word_embeddings=True)).eval()


def save_tiny_model(directory: Path, arch: str = "gpt2", seed: int = 0) -> Path:
    """:func:`tiny_model` and its tokenizer, saved as a model folder."""
    tokenizer = train_bpe_tokenizer()
    directory = Path(directory)
    tiny_model(len(tokenizer), arch, seed).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


if __name__ == "__main__":
    import sys

    save_tiny_model(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "gpt2")
    write_toy_recbole(Path(sys.argv[1]).parent)
