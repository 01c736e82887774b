"""HR@K, NDCG@K and MRR of leave-one-out recommendation, as an ``evaluate`` module.

predictions: one list of candidate scores per user (higher is better).
references:  the index of the target (the one relevant item) in that user's list.

    r_u    = 1 + #{c != target : s_c >= s_target}     (ties count against the target)
    HR@K   = mean_u [r_u <= K]
    NDCG@K = mean_u [r_u <= K] / log2(r_u + 1)
    MRR    = mean_u 1 / r_u
"""

import datasets
import evaluate

from instructrec_peft.evaluation.metrics.formulas import ranking_metrics, target_ranks


class Ranking(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=__doc__,
            citation="",
            inputs_description="predictions: list of float lists; references: int target indices; k_values",
            features=datasets.Features({
                "predictions": datasets.Sequence(datasets.Value("float64")),
                "references": datasets.Value("int64"),
            }),
        )

    def _compute(self, predictions, references, k_values=(1, 3, 5, 10)):
        return ranking_metrics(target_ranks(predictions, references), k_values)
