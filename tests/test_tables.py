"""The reports' metric tables: means, intervals and paired differences over the users rows share."""

from benchmarks.ml1m import _reproduction
from benchmarks.tables import metric_table, ranks_of
from instructrec_peft.evaluation.metrics.bootstrap import bootstrap_ci, paired_ci, per_user


def test_ranks_are_stored_as_ints_and_misses_as_none():
    assert ranks_of([1.0, float("inf"), 3]) == [1, None, 3]


def test_a_table_pairs_each_row_with_the_reference_on_shared_users():
    rows = {"SASRec": {"users": ["a", "b", "c", "d"], "full": [1, 2, 2, 3]},
            "LM": {"users": ["d", "c", "b", "a", "e"], "full": [None, 2, 1, 1, 1]}}  # "e" is not shared
    table = metric_table(rows, "full", "SASRec", ("hr@1",), ("hr@1", "mrr")).splitlines()
    assert table[0] == "| system | users | HR@1 | MRR | HR@1 95% CI | HR@1 - SASRec (95% CI) |"
    assert table[2].startswith("| SASRec | 4 | 0.250 | 0.583 | ") and table[2].endswith(" |  |")
    lm = per_user([1, 1, 2, float("inf")], "hr@1")  # users a, b, c, d
    lo, hi = bootstrap_ci(lm)
    d, dlo, dhi = paired_ci(lm, per_user([1, 2, 2, 3], "hr@1"))
    assert d == 0.25
    assert table[3] == f"| LM | 4 | 0.500 | 0.625 | {lo:.3f}-{hi:.3f} | {d:+.3f} ({dlo:+.3f} to {dhi:+.3f}) |"


def test_the_sasrec_check_says_whether_it_reproduces_the_literature():
    hits = {"full": [1] * 30 + [None] * 70}  # HR@10 .30, NDCG@10 .30: outside the NDCG band
    assert _reproduction(hits) == ("Our SASRec, full ranking: HR@10 0.3000, NDCG@10 0.3000: outside the published "
                                   "SASRec family (HR@10 .29-.32, NDCG@10 .17-.18).")
    above = {"full": [3] * 35 + [None] * 65}  # HR@10 .35 is above .32
    assert "outside" in _reproduction(above)
    inside = {"full": [1] * 12 + [10] * 18 + [None] * 70}  # NDCG@10 .12 + .18 / log2(11) = .1720
    assert _reproduction(inside) == ("Our SASRec, full ranking: HR@10 0.3000, NDCG@10 0.1720: inside the published "
                                     "SASRec family (HR@10 .29-.32, NDCG@10 .17-.18).")
    # Outside, the validation curve says why: still rising at the epoch cap, or peaked before it.
    rising = _reproduction(hits, {"3": 0.10, "6": 0.12}, cap=6)
    assert rising.endswith(" Its validation NDCG@10 was still rising at the 6-epoch cap (0.1200 at epoch 6): more "
                           "epochs than this CPU run allowed would move it.")
    assert _reproduction(hits, {"3": 0.13, "6": 0.12}, cap=6).endswith(
        " Its validation NDCG@10 peaked at epoch 3 (0.1300) of 6.")
    assert _reproduction(inside, {"3": 0.10, "6": 0.12}, cap=6).endswith("NDCG@10 .17-.18).")


def test_the_ml1m_report_renders_what_has_run_and_names_what_has_not():
    from benchmarks.ml1m import render

    rows = {"SASRec": {"users": ["a", "b"], "fit seconds": 10.0, "full": [1, 12], "loo-random-10": [1, 2],
                       "loo-random-20": [1, 3]},
            "popularity": {"users": ["a", "b"], "fit seconds": 0.0, "full": [50, None], "loo-random-10": [4, 5],
                           "loo-random-20": [9, 10]}}
    store = {"machine": "Machine: test", "versions": {"torch": "0"},
             "baselines": {"rows": rows, "sasrec_curve": {"3": 0.1, "6": 0.2},
                           "sasrec_settings": {"max_len": 200, "eval_every": 3}, "minutes": 2.0}}
    report = render(store)
    assert "Not run yet: items-lm (`python recipes/bench_ml1m.py --sections items-lm`)." in report
    assert "| SASRec | 2 | 0.500 | 0.500 | 0.500 | 0.500 | 0.500 | 0.542 | " in report  # full: ranks 1 and 12
    assert "Our SASRec, full ranking: HR@10 0.5000, NDCG@10 0.5000: outside the published SASRec family" in report
    assert "SASRec: max_len 200, eval_every 3; validated every 3 epochs up to epoch 6" in report
    assert "| eSASRec, arXiv 2508.06450 | eSASRec | 0.3133 | 0.1772 |" in report
