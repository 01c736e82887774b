"""A Gradio app to try an adapter: pick items the user liked, optionally say what they want now,
get the top k with scores and a generated reason each, and accept or reject one (recorded in the
feedback log, which a later tuning round can learn from). Gradio is the ``app`` extra.

    instructrec-peft app outputs/items-cpu [--feedback feedback.jsonl] [--port 7860]

>>> demo = build_app(Recommender.from_pretrained("outputs/items-cpu"), items)   # doctest: +SKIP
>>> demo.launch()                                                                # doctest: +SKIP
"""

from __future__ import annotations

import re
from typing import Sequence

from ..errors import ArgumentError, MissingDependencyError
from .explanations import explain_items

__all__ = ["adapter_catalog", "read_catalog", "load_recommender", "recommend_rows", "record_choice", "build_app"]

USER = "app"  # the feedback log's user id for choices made in the app
COLUMNS = ["rank", "item", "score", "why"]


def adapter_catalog(adapter: str, trust_remote_code: bool = False):
    """What a text-only adapter recommends from: its training data's catalogue (``None`` for an
    item-token adapter, which carries its own items)."""
    from ..config import saved_configs
    from ..models.loading import item_tokens_of
    from ..models.workspace import load_log

    if item_tokens_of(adapter) is not None:
        return None
    _, data_args = saved_configs(adapter, trust_remote_code=trust_remote_code)
    if data_args is None:
        raise ArgumentError(f"{adapter}: no data settings saved; pass a catalogue through the Python API")
    return load_log(data_args).catalog


def read_catalog(path: str):
    """A catalogue saved as JSON Lines of ``item_id``, ``text`` and ``categories`` (a Space's ``catalog.jsonl``)."""
    from ..data.interactions import ItemCatalog, read_table

    frame, _, _ = read_table(path, format="jsonl")
    missing = {"item_id", "text", "categories"} - set(frame.columns)
    if missing:
        raise ArgumentError(f"{path}: a catalogue file needs the fields item_id, text and categories; "
                            f"missing {sorted(missing)}")
    frame = frame.assign(item_id=frame["item_id"].astype(str)).set_index("item_id")
    return ItemCatalog(frame, ("text",), category_field="categories", max_text_chars=10**6, source=path)


def load_recommender(adapter: str, feedback: str | None = None, catalog_file: str | None = None, *,
                     trust_remote_code: bool = False):
    """The adapter's Recommender (feedback to ``feedback``, default ``<adapter>/feedback.jsonl``)
    and the titles of the items it recommends from. ``adapter`` is a run folder or a Hub repo id
    (downloaded first); ``catalog_file`` replaces the training data's catalogue (see
    :func:`read_catalog`)."""
    from pathlib import Path

    from .recommender import Recommender

    if not Path(adapter).is_dir() and re.fullmatch(r"[\w.-]+/[\w.-]+", adapter) and not adapter.startswith("."):
        from huggingface_hub import snapshot_download

        adapter = snapshot_download(adapter)
    catalog = read_catalog(catalog_file) if catalog_file else adapter_catalog(adapter, trust_remote_code)
    rec = Recommender.from_pretrained(adapter, catalog=catalog, trust_remote_code=trust_remote_code)
    rec.feedback_path = feedback or str(Path(adapter) / "feedback.jsonl")
    if catalog is None:
        items = [rec.label(i) for i in rec.item_tokens.items]  # a shared title shows its id
    else:
        items = [catalog.text(i) for i in catalog.texts]
    return rec, items


def recommend_rows(rec, liked: Sequence[str], intention: str = "", k: int = 10, explain: bool = True,
                   preference: str = "") -> list[list]:
    """Table rows (rank, item, score, reason) of the top ``k`` for a history of ``liked`` items,
    steered by what the user wants now (``intention``) and says of their taste (``preference``).
    An item-token adapter's reasons are measured (``explanations.py``: the history items and the
    request that raised each score); a text-only adapter's are generated."""
    if not liked:
        raise ArgumentError("pick at least one item the user liked")
    intention, preference = intention.strip() or None, preference.strip() or None
    # By id for an item-token adapter: a title shared by two items is shown with its id, never
    # mistaken for the other.
    top = rec.top_items(list(liked), k=k, intention=intention, preference=preference)
    if not explain:
        reasons = [""] * len(top)
    elif rec.item_tokens is not None:
        reasons = [e.text(rec.label) for e in explain_items(rec, list(liked), [i for i, _ in top], intention,
                                                             preference)]
    else:
        reasons = [" ".join(rec.explain(list(liked), item).split()) for item, _ in top]
    return [[rank, rec.label(item), round(float(score), 3), reason]
            for rank, ((item, score), reason) in enumerate(zip(top, reasons), start=1)]


def record_choice(rec, item: str | None, accepted: bool, liked: Sequence[str] = ()) -> str:
    """Write the user's verdict on ``item`` to the feedback log, with the items the user had
    picked (``liked``: the app's users are anonymous, so the record carries its own history, which
    a tuning round on the log reads); a line saying what was recorded."""
    if not item:
        raise ArgumentError("choose one of the recommended items first")
    rec.record_feedback(USER, item, accepted, history=list(liked) or None)
    return f"Recorded: {'accepted' if accepted else 'rejected'} {item} ({rec.feedback_path})"


def build_app(rec, items: Sequence[str], *, k: int = 10, explain: bool = True, title: str = "instructrec-peft"):
    """The app's ``gradio.Blocks`` for ``rec`` (its feedback goes to ``rec.feedback_path``)."""
    try:
        import gradio as gr
    except ImportError:
        raise MissingDependencyError("the app needs gradio: pip install 'instructrec-peft[app]'") from None

    def on_recommend(liked, intention):
        try:
            rows = recommend_rows(rec, liked or [], intention or "", k, explain)
        except ArgumentError as err:
            raise gr.Error(str(err)) from None
        return rows, gr.update(choices=[row[1] for row in rows], value=rows[0][1] if rows else None)

    def on_choice(item, accepted, liked):
        try:
            return record_choice(rec, item, accepted, liked or [])
        except ArgumentError as err:
            raise gr.Error(str(err)) from None

    with gr.Blocks(title=title) as demo:
        gr.Markdown(f"# {title}\nPick what the user liked (type to search), optionally say what they want now, "
                    "and get recommendations with the model's reasons. Accept or reject one to record feedback.")
        with gr.Row():
            liked = gr.Dropdown(choices=list(items), multiselect=True, label="Items the user liked, oldest first",
                                elem_id="liked")
            intention = gr.Textbox(label="What the user wants now (optional)", elem_id="intention")
        go = gr.Button("Recommend", variant="primary", elem_id="recommend")
        table = gr.Dataframe(headers=COLUMNS, interactive=False, wrap=True, elem_id="results")
        with gr.Row():
            chosen = gr.Dropdown(choices=[], label="A recommended item", elem_id="chosen")
            accept = gr.Button("Accept", elem_id="accept")
            reject = gr.Button("Reject", elem_id="reject")
        status = gr.Markdown(elem_id="status")
        go.click(on_recommend, [liked, intention], [table, chosen])
        accept.click(lambda item, picked: on_choice(item, True, picked), [chosen, liked], [status])
        reject.click(lambda item, picked: on_choice(item, False, picked), [chosen, liked], [status])
    return demo
