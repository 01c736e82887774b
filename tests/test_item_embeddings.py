import numpy as np
import pytest
import torch

from instructrec_peft.inference import retrieval as item_embeddings
from instructrec_peft.inference.retrieval import ContentRetriever, embed_texts
from instructrec_peft.instructions.tokenization import ensure_pad_token


def test_embeddings_are_mean_pooled_without_padding(tiny_gpt2, bpe_tokenizer):
    ensure_pad_token(bpe_tokenizer)
    texts = ["Alien (1979)", "Toy Story (1995) and GoldenEye (1995)"]
    batch = embed_texts(tiny_gpt2, bpe_tokenizer, texts)
    ids = torch.tensor([bpe_tokenizer(texts[0])["input_ids"]])
    with torch.no_grad():
        hidden = tiny_gpt2(ids, output_hidden_states=True).hidden_states[-1][0].mean(dim=0)
    expected = (hidden / hidden.norm()).numpy()
    assert batch.shape == (2, 64)
    assert np.allclose(batch[0], expected, atol=1e-5)  # the shorter text, padded in the batch
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-6)


class Catalog:
    def __init__(self, texts):
        self.texts = texts

    def text(self, item):
        return self.texts[item]


def test_retrieval_by_cosine_similarity_excludes_the_history():
    vectors = np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0]], dtype=np.float32)
    retriever = ContentRetriever(["a", "b", "c", "d"], vectors)
    assert np.allclose(retriever.scores(["a"]), [1.0, 0.8, 0.0, -1.0])
    assert retriever.top_k(["a"], k=2) == ["b", "c"]
    assert retriever.top_k(["a", "c"], k=5) == ["b", "d"]  # profile = mean of a and c
    with pytest.raises(ValueError, match="give a history, a query, or both"):
        retriever.scores()
    with pytest.raises(ValueError, match="a text query needs the model"):
        retriever.scores(query="a comedy movie")


def test_embeddings_are_cached_per_catalogue(tiny_gpt2, bpe_tokenizer, tmp_path, monkeypatch):
    ensure_pad_token(bpe_tokenizer)
    catalog = Catalog({"1": "Alien (1979)", "2": "Heat (1995)", "3": "Fargo (1996)"})
    cache = tmp_path / "emb.npz"
    first = ContentRetriever.build(tiny_gpt2, bpe_tokenizer, catalog, cache=cache, progress=False)
    calls = []
    original = item_embeddings.embed_texts
    monkeypatch.setattr(item_embeddings, "embed_texts", lambda *a, **k: calls.append(1) or original(*a, **k))
    again = ContentRetriever.build(tiny_gpt2, bpe_tokenizer, catalog, cache=cache, progress=False)
    assert calls == [] and np.array_equal(again.vectors, first.vectors)
    catalog.texts["3"] = "Fargo (1996), a new cut"
    changed = ContentRetriever.build(tiny_gpt2, bpe_tokenizer, catalog, cache=cache, progress=False)
    assert calls == [1] and not np.allclose(changed.vectors[2], first.vectors[2])
    # A free-text query ranks the items by their text alone.
    assert len(changed.top_k(query="Heat", k=3)) == 3
