"""From feedback records to training examples: negatives and explicit preference statements.

Each record (user, item, accepted) becomes pointwise examples about that item, answered Yes if
it was accepted and No if it was rejected:

* P1: the user's history, then "will the user enjoy {item}?";
* P2: a first-person statement built from the user's *other* feedback ("I liked A. I did not
  like B."), so the example teaches the model to read stated taste, never to copy the answer.

Items may be given by catalogue id or by their exact text. A record's history is the user's
train sequence in the log, or, for a record that carries its own ``history`` (the app's anonymous
sessions), that list; a record with neither is refused. "Other feedback" is the same user's, or for
records with their own history, the same session's (same user and history).

>>> rows = feedback_examples(FeedbackLog("feedback.jsonl").read(), split, catalog)   # doctest: +SKIP
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from ..data.feedback import Feedback
from ..errors import ArgumentError, DataError
from .examples import COLUMNS
from .templates import get_template

__all__ = ["feedback_examples", "preference_from_feedback", "P1_TEMPLATE", "P2_TEMPLATE"]

P1_TEMPLATE, P2_TEMPLATE = "p1-i0-pointwise-1", "p2-i0-pointwise-1"


def _item_id(record: Feedback, catalog, by_text: dict[str, str], item: str | None = None) -> str:
    item = record.item if item is None else item
    if item in catalog.texts:
        return item
    if item in by_text:
        return by_text[item]
    raise DataError(f"feedback of user {record.user!r}: item {item!r} is neither an item id nor an item text "
                    "of the catalogue")


def preference_from_feedback(liked: Sequence[str], disliked: Sequence[str]) -> str | None:
    """``"I liked A and B. I did not like C."`` from item texts, or ``None`` when both are empty."""
    said = [f"I liked {' and '.join(liked)}." if liked else "",
            f"I did not like {' and '.join(disliked)}." if disliked else ""]
    return " ".join(part for part in said if part) or None


def feedback_examples(records: Sequence[Feedback], split, catalog, *, vocabulary: str = "movie",
                      max_history_items: int = 10, count_tokens=None, max_prompt_tokens: int | None = None,
                      repeats: int = 1) -> dict[str, list]:
    """Training rows (the columns of :func:`examples.build_examples`) for ``records``, each ``repeats`` times."""
    if repeats < 1:
        raise ArgumentError(f"repeats must be >= 1, got {repeats}")
    by_text = {text: item for item, text in catalog.texts.items()}
    resolved = []
    for record in records:
        if record.history is not None:
            history = [_item_id(record, catalog, by_text, i) for i in record.history]
            key = (record.user, tuple(history))
        elif record.user in split.sequences:
            history, key = split.train_sequence(record.user), (record.user,)
        else:
            raise DataError(f"feedback of user {record.user!r}: the user is not in the interaction log and the record "
                            "carries no history of its own (the app records one)")
        resolved.append((record, _item_id(record, catalog, by_text), history, key))
    per_user = defaultdict(list)
    for record, item, _, key in resolved:
        per_user[key].append((item, record.accepted))

    p1, p2 = get_template(P1_TEMPLATE), get_template(P2_TEMPLATE)
    rows: dict[str, list] = {c: [] for c in COLUMNS}
    for record, item, history, key in resolved:
        answer = "Yes" if record.accepted else "No"
        others = [(i, ok) for i, ok in per_user[key] if i != item]
        statement = preference_from_feedback([catalog.text(i) for i, ok in others if ok],
                                             [catalog.text(i) for i, ok in others if not ok])
        forms = [(p1, {"history": [catalog.text(i) for i in history]})] if history else []
        if statement:
            forms.append((p2, {"preference": statement}))
        for template, values in forms:
            rendered = template.render(vocabulary=vocabulary, item=catalog.text(item), answer=answer,
                                       count_tokens=count_tokens, max_prompt_tokens=max_prompt_tokens,
                                       max_history_items=max_history_items, **values)
            kept = history[len(history) - rendered.history_used:] if rendered.history_used else []
            for _ in range(repeats):
                for column, value in zip(COLUMNS, (record.user, "train", item, template.name, "pointwise",
                                                   template.preference, template.intention, rendered.prompt,
                                                   rendered.completion, [item], answer, list(kept))):
                    rows[column].append(value)
    return rows
