"""Shared fixtures: tiny tokenizers and models built locally, never downloaded."""

from __future__ import annotations

import pandas as pd
import pytest

WORDS = ("The user watched Alien Heat Fargo Up Is it likely that will watch next ? Answer Yes or No . "
         "Which movie : , \" A B C D").split()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    # No test may read or write the real caches (assets, HF modules, datasets).
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("INSTRUCTREC_HOME", str(home / "instructrec"))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def word_tokenizer():
    """A word-level tokenizer with hand-picked ids, GPT-2 style: EOS, no pad token.

    Ids: <|endoftext|>=0, <unk>=1, then WORDS in order from 2 ("The"=2, "user"=3, ...).
    """
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<|endoftext|>": 0, "<unk>": 1}
    for word in WORDS:
        vocab.setdefault(word, len(vocab))
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|endoftext|>", unk_token="<unk>")


@pytest.fixture(scope="session")
def bpe_tokenizer():
    """A byte-level BPE tokenizer trained here on a few sentences (GPT-2's scheme, tiny vocab)."""
    from tiny import train_bpe_tokenizer

    corpus = ["The user watched Alien (1979), Heat (1995) and Fargo (1996).",
              "Which movie will the user watch next? Answer Yes or No.",
              "A. Toy Story (1995)\nB. GoldenEye (1995)\nC. Four Rooms (1995)"] * 20
    return train_bpe_tokenizer(vocab_size=400, corpus=corpus)


@pytest.fixture
def tiny_gpt2(bpe_tokenizer):
    from tiny import tiny_model

    return tiny_model(len(bpe_tokenizer), "gpt2", n_positions=256)


@pytest.fixture
def toy_catalog():
    from instructrec_peft import ItemCatalog

    frame = pd.DataFrame({
        "item_id": [str(i) for i in range(1, 13)],
        "title": ["Alien", "Heat", "Fargo", "Up", "Jaws", "Rocky", "Babe", "Se7en", "Clue", "Big", "Tron", "Ran"],
        "year": ["1979", "1995", "1996", "2009", "1975", "1976", "1995", "1995", "1985", "1988", "1982", "1985"],
        "genres": ["Horror|Sci-Fi", "Crime|Thriller", "Crime|Drama", "Animation|Comedy", "Horror|Thriller",
                   "Drama", "Children's|Comedy", "Crime|Thriller", "Comedy|Mystery", "Comedy|Fantasy",
                   "Action|Sci-Fi", "Drama|War"],
    })
    return ItemCatalog(frame.set_index("item_id"), text_fields=("title", "year"), category_field="genres",
                       category_sep="|")


@pytest.fixture
def toy_log(toy_catalog):
    """Four users; u1 has ties in time, u4 is short (2 interactions)."""
    from instructrec_peft import InteractionLog

    rows = [
        ("u1", "1", 10, 5), ("u1", "2", 20, 4), ("u1", "3", 20, 2), ("u1", "4", 30, 5), ("u1", "5", 40, 1),
        ("u2", "6", 5, 4), ("u2", "7", 6, 5), ("u2", "8", 7, 3), ("u2", "9", 8, 4),
        ("u3", "10", 100, 5), ("u3", "11", 50, 4), ("u3", "12", 75, 2),
        ("u4", "1", 1, 3), ("u4", "2", 2, 4),
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "rating"])
    return InteractionLog.load(frame, catalog=toy_catalog, name="toy")


@pytest.fixture(scope="session")
def tiny_assets(tmp_path_factory):
    """A tiny GPT-2 and a tiny Llama (with tokenizers) and a toy RecBole dataset, on disk."""
    from tiny import save_tiny_model, write_toy_recbole

    root = tmp_path_factory.mktemp("tiny")
    return {"gpt2": str(save_tiny_model(root / "gpt2", "gpt2")),
            "llama": str(save_tiny_model(root / "llama", "llama")),
            "data": str(write_toy_recbole(root)), "root": root}
