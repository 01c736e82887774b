import numpy as np
import pandas as pd
import pytest

from instructrec_peft import leave_one_out
from instructrec_peft.evaluation.baselines import BPR, Popularity, SASRec, full_ranking_ranks
from instructrec_peft.evaluation.metrics import ranking_metrics


def test_popularity_on_a_hand_made_log(toy_log):
    split = leave_one_out(toy_log)
    pop = Popularity.fit(split, items=[str(i) for i in range(1, 13)])
    # Train counts: items 1 and 2 twice (u1, u4), items 3, 6, 7, 11 once, the rest never.
    assert pop.score("u1", ["1", "2", "3", "5", "9"]) == [2.0, 2.0, 1.0, 0.0, 0.0]
    # Full ranking of test targets (u1: 5, u2: 9, u3: 10), each among the items outside the
    # user's history, ties counted against the target:
    #   u1 history {1,2,3,4}: others 6,7,11 (1 each) and 8,9,10,12 (0) -> 3 higher + 4 ties -> rank 8
    #   u2 history {6,7,8}: others 1,2 (2), 3,11 (1), 4,5,10,12 (0) -> 4 higher + 4 ties -> rank 9
    #   u3 history {11,12}: others 1,2 (2), 3,6,7 (1), 4,5,8,9 (0) -> 5 higher + 4 ties -> rank 10
    ranks = full_ranking_ranks(pop, split)
    assert ranks.tolist() == [8, 9, 10]
    assert ranking_metrics(ranks, (10,)) == pytest.approx({"hr@10": 1.0, "ndcg@10": np.mean(1 / np.log2(ranks + 1)),
                                                           "mrr": np.mean(1 / ranks)})
    assert pop.top_k(split, "u1", 3) == ["6", "7", "11"]


def _cyclic_log(n_items=12, n_users=40, length=8, seed=0):
    """Each user walks the item cycle 0 -> 1 -> ... from a random start: the next item is determined."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        start = int(rng.integers(n_items))
        for t in range(length):
            rows.append((f"u{u}", str((start + t) % n_items), float(t)))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])


def test_sasrec_learns_a_deterministic_sequence():
    split = leave_one_out(_cyclic_log())
    model = SASRec.fit(split, dim=32, max_len=8, layers=1, heads=1, dropout=0.0, lr=5e-3, epochs=60, eval_every=10,
                       patience=60)
    ranks = full_ranking_ranks(model, split)
    assert ranks.tolist() == [1] * len(split.evaluated)  # HR@1 = 1.0: the next item of the cycle
    assert max(model.history.values()) == 1.0


def test_sasrec_draws_its_weights_as_published_unless_told_otherwise():
    import torch

    from instructrec_peft.evaluation.baselines import _SASRecNet

    torch.manual_seed(0)
    net = _SASRecNet(n_items=2000, dim=64, max_len=50, layers=2, heads=1, dropout=0.2, init_std=0.02)
    assert torch.count_nonzero(net.items.weight[0]) == 0  # the padding row
    for name, weight in [("items", net.items.weight[1:]), ("positions", net.positions.weight),
                         *[(n, p) for n, p in net.encoder.named_parameters() if p.dim() == 2]]:
        assert abs(weight.std().item() - 0.02) < 0.002, name  # N(0, 0.02) on every matrix
    biases = [p for n, p in net.encoder.named_parameters() if n.endswith("bias") and "norm" not in n]
    assert len(biases) == 8 and all(torch.count_nonzero(b) == 0 for b in biases)
    torch.manual_seed(0)
    plain = _SASRecNet(n_items=2000, dim=64, max_len=50, layers=2, heads=1, dropout=0.2, init_std=None)
    assert abs(plain.items.weight[1:].std().item() - 1.0) < 0.02  # torch's N(0, 1) rows
    assert plain.encoder.layers[0].linear1.weight.std().item() > 0.05  # and its own draws for the layers


def test_bpr_learns_two_taste_clusters():
    # Users 0-29 only ever touch items 0-7, users 30-59 items 8-15; each touches 7 of its 8.
    rng = np.random.default_rng(1)
    rows = []
    for u in range(60):
        pool = range(0, 8) if u < 30 else range(8, 16)
        for t, item in enumerate(rng.permutation(list(pool))[:7]):
            rows.append((f"u{u}", str(item), float(t)))
    split = leave_one_out(pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]))
    model = BPR.fit(split, dim=16, epochs=100, lr=0.05, weight_decay=0.0, seed=0)
    ranks = full_ranking_ranks(model, split)
    # Outside the history remain the target, one unseen item of the user's cluster and the 8
    # items of the other cluster: popularity ranks targets anywhere in 1..10, BPR keeps every
    # target within the top 3 and most first.
    assert ranks.max() <= 3
    assert ranking_metrics(ranks, (1,))["hr@1"] >= 0.5
    popularity = full_ranking_ranks(Popularity.fit(split), split)
    assert ranks.mean() < popularity.mean()
