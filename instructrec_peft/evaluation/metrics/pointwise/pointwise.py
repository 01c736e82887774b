"""AUC of pointwise (Yes/No) recommendation scores, as an ``evaluate`` module.

predictions: the score of "Yes" for each (user, item) question (higher means more likely).
references:  1 if the item is the user's real next item, else 0.

    AUC = P(s_pos > s_neg) + 0.5 P(s_pos = s_neg)   over all positive/negative pairs
"""

import datasets
import evaluate

from instructrec_peft.evaluation.metrics.formulas import auc


class Pointwise(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=__doc__,
            citation="",
            inputs_description="predictions: float scores; references: 0/1 labels",
            features=datasets.Features({"predictions": datasets.Value("float64"),
                                        "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references):
        return {"auc": auc(predictions, references)}
