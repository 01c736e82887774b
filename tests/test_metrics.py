import numpy as np
import pytest

from instructrec_peft.evaluation.metrics import auc, load_metric, ranking_metrics, target_ranks


def test_ranks_break_ties_against_the_target():
    scores = [[0.9, 0.1, 0.5], [1.0, 1.0, 1.0], [0.2, 0.8, 0.3, 0.1]]
    assert target_ranks(scores, [2, 0, 1]).tolist() == [2, 3, 1]


def test_metrics_against_hand_computed_values():
    ranks = np.array([1, 2, 4, 11])
    metrics = ranking_metrics(ranks, k_values=(1, 3, 10))
    # HR@1 = 1/4; HR@3 = 2/4; HR@10 = 3/4
    # NDCG@3 = (1 + 1/log2(3)) / 4; NDCG@10 = (1 + 1/log2(3) + 1/log2(5)) / 4
    # MRR = (1 + 1/2 + 1/4 + 1/11) / 4
    assert metrics == pytest.approx({
        "hr@1": 0.25, "ndcg@1": 0.25,
        "hr@3": 0.5, "ndcg@3": (1 + 1 / np.log2(3)) / 4,
        "hr@10": 0.75, "ndcg@10": (1 + 1 / np.log2(3) + 1 / np.log2(5)) / 4,
        "mrr": (1 + 0.5 + 0.25 + 1 / 11) / 4,
    }, abs=1e-12)
    assert metrics["ndcg@3"] == pytest.approx(0.4077324383928644, abs=1e-12)


def test_auc_hand_computed():
    # positives 0.9, 0.5; negatives 0.2, 0.5: pairs (0.9>0.2, 0.9>0.5, 0.5>0.2, 0.5=0.5) -> 3.5 / 4
    assert auc([0.9, 0.2, 0.5, 0.5], [1, 0, 1, 0]) == 0.875
    with pytest.raises(ValueError, match="at least one positive and one negative"):
        auc([0.1], [1])


def test_metric_errors():
    with pytest.raises(ValueError, match="target index 3 outside its 3 candidates"):
        target_ranks([[1, 2, 3]], [3])
    with pytest.raises(ValueError, match="no ranks to average"):
        ranking_metrics(np.array([]))


def test_local_evaluate_modules_load_without_the_hub():
    ranking = load_metric("ranking")
    result = ranking.compute(predictions=[[0.9, 0.1, 0.5], [1.0, 1.0, 1.0]], references=[2, 0], k_values=[1, 3])
    assert result == pytest.approx({"hr@1": 0.0, "ndcg@1": 0.0, "hr@3": 1.0,
                                    "ndcg@3": (1 / np.log2(3) + 1 / np.log2(4)) / 2, "mrr": (0.5 + 1 / 3) / 2})
    pointwise = load_metric("pointwise")
    assert pointwise.compute(predictions=[0.9, 0.2, 0.5, 0.5], references=[1, 0, 1, 0]) == {"auc": 0.875}
    with pytest.raises(ValueError, match="unknown metric 'bleu'"):
        load_metric("bleu")


def test_per_user_values_and_bootstrap_intervals():
    from instructrec_peft.evaluation.metrics.bootstrap import bootstrap_ci, paired_ci, per_user, summarize

    ranks = np.array([1, 2, 11, np.inf])
    assert per_user(ranks, "hr@1").tolist() == [1.0, 0.0, 0.0, 0.0]
    assert per_user(ranks, "hr@10").tolist() == [1.0, 1.0, 0.0, 0.0]
    np.testing.assert_allclose(per_user(ranks, "ndcg@10"), [1.0, 1 / np.log2(3), 0.0, 0.0])
    assert per_user(ranks, "mrr").tolist() == [1.0, 0.5, 1 / 11, 0.0]
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        per_user(ranks, "auc")
    # A constant sample has a zero-width interval; a 0/1 sample's interval holds its mean.
    assert bootstrap_ci(np.full(50, 0.25)) == (0.25, 0.25)
    lo, hi = bootstrap_ci(np.r_[np.ones(30), np.zeros(70)])
    assert lo < 0.3 < hi and 0.15 < lo and hi < 0.45
    # Paired: b = a - 0.1 exactly, so the difference and its interval are 0.1.
    a = np.random.default_rng(0).random(40)
    assert paired_ci(a, a - 0.1) == pytest.approx((0.1, 0.1, 0.1))
    with pytest.raises(ValueError, match="same users"):
        paired_ci(a, a[:-1])
    metrics, intervals = summarize(np.array([1, 1, 3, 20]), (1, 10), ("hr@1",))
    assert metrics["hr@1"] == 0.5 and metrics["hr@10"] == 0.75 and set(intervals) == {"hr@1"}


def test_format_table_adds_interval_columns():
    from instructrec_peft.evaluation.ranking import format_table

    table = format_table({"a": {"hr@1": 0.5, "ndcg@10": 0.7}, "b": {"hr@1": 0.4, "ndcg@10": 0.6}}, {"a": 3, "b": 3},
                         columns=("hr@1", "ndcg@10"), intervals={"a": {"hr@1": (0.4, 0.6)}})
    assert table.splitlines() == ["| system | users | HR@1 | NDCG@10 | HR@1 95% CI |", "|---|---|---|---|---|",
                                  "| a | 3 | 0.500 | 0.700 | 0.400-0.600 |", "| b | 3 | 0.400 | 0.600 |  |"]


def test_ranks_table_summarizes_each_systems_ranks():
    from instructrec_peft.evaluation.metrics.bootstrap import bootstrap_ci, per_user
    from instructrec_peft.evaluation.ranking import ranks_table

    ranks = {"a": np.array([1.0, 2.0, 1.0, np.inf]), "b": np.array([3.0, 1.0, 4.0, 2.0])}
    metrics, table = ranks_table(ranks, ("hr@1", "mrr"), ("hr@1",))
    assert metrics["a"]["hr@1"] == 0.5 and metrics["b"]["hr@1"] == 0.25
    assert metrics["a"]["mrr"] == pytest.approx((1 + 0.5 + 1 + 0) / 4)
    low, high = bootstrap_ci(per_user(ranks["a"], "hr@1"))
    assert table.splitlines()[2] == f"| a | 4 | 0.500 | {metrics['a']['mrr']:.3f} | {low:.3f}-{high:.3f} |"
