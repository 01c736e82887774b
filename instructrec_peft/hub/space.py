"""A Hugging Face Space that demos a pushed adapter (``instructrec-peft push ... --with-app``).

The Space holds ``app.py`` (the app of ``instructrec-peft app``, loading the adapter from its
model repository), ``requirements.txt``, a ``README.md`` with the Space metadata, the catalogue a
text-only adapter recommends from (``catalog.jsonl``; an item-token adapter carries its items),
and a copy of the ``instructrec_peft`` package itself. The copy is there because a Space
installs ``requirements.txt`` before the repository's files are in place, so the requirements
cannot name a wheel inside the repository, and a requirement on the package by name needs it on
PyPI; with the package beside ``app.py`` the requirements are its dependencies and Gradio.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
from pathlib import Path

from ..errors import ArgumentError
from ..files import write_text_atomic

__all__ = ["CATALOG_FILE", "space_folder", "space_requirements"]

CATALOG_FILE = "catalog.jsonl"
DISTRIBUTION = "instructrec-peft"

APP = '''"""The demo of {adapter_repo}, made by instructrec-peft (push --with-app)."""

from instructrec_peft.inference.app import build_app, load_recommender

ADAPTER = {adapter_repo!r}
# A private adapter repository needs an HF_TOKEN secret in the Space settings.
rec, items = load_recommender(ADAPTER, feedback="feedback.jsonl", catalog_file={catalog!r})
demo = build_app(rec, items, title={title!r})

if __name__ == "__main__":
    demo.launch()
'''

README = """---
title: {title}
emoji: 🎬
colorFrom: indigo
colorTo: blue
sdk: gradio
app_file: app.py
pinned: false
models:
- {adapter_repo}
tags:
- recommendation
- instructrec
---

# {title}

Try the recommender adapter [{adapter_repo}](https://huggingface.co/{adapter_repo}): pick items a user
liked, optionally say what they want now, and get the top items with the model's scores and reasons.
Accepting or rejecting an item appends to `feedback.jsonl` in the Space's working directory, which
does not survive a restart. Made with `instructrec-peft push --with-app`.
"""


def space_requirements() -> list[str]:
    """The package's own dependencies (no extras) and Gradio, as ``requirements.txt`` lines."""
    try:
        declared = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        raise ArgumentError(f"{DISTRIBUTION} is not installed (pip install -e . or the wheel); its dependency list "
                            "is read from the installed metadata") from None
    core = [line for line in declared if "extra ==" not in line]
    gradio = [line.split(";")[0].strip() for line in declared
              if 'extra == "app"' in line and line.startswith("gradio")]
    return core + (gradio or ["gradio>=5"])


def _catalog_lines(adapter_dir: Path) -> list[str] | None:
    """The training catalogue as JSON Lines (id, text, categories), or ``None`` for an item-token adapter."""
    from ..inference.app import adapter_catalog

    catalog = adapter_catalog(str(adapter_dir))
    if catalog is None:
        return None
    return [json.dumps({"item_id": item, "text": text, "categories": catalog.categories(item)}, ensure_ascii=False)
            for item, text in catalog.texts.items()]


def space_folder(adapter_dir: str | Path, adapter_repo: str, destination: str | Path, *,
                 title: str | None = None) -> Path:
    """Write the Space for the adapter pushed to ``adapter_repo`` into ``destination`` (new)."""
    destination = Path(destination)
    destination.mkdir(parents=True)
    title = title or f"{adapter_repo.split('/')[-1]} recommender"
    lines = _catalog_lines(Path(adapter_dir))
    if lines is not None:
        write_text_atomic(destination / CATALOG_FILE, "\n".join(lines) + "\n")
    write_text_atomic(destination / "app.py", APP.format(adapter_repo=adapter_repo, title=title,
                                                         catalog=CATALOG_FILE if lines is not None else None))
    write_text_atomic(destination / "requirements.txt", "\n".join(space_requirements()) + "\n")
    write_text_atomic(destination / "README.md", README.format(adapter_repo=adapter_repo, title=title))
    package = Path(__file__).resolve().parents[1]  # the instructrec_peft folder this module runs from
    shutil.copytree(package, destination / package.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return destination
