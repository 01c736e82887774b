"""Loading and splitting published layouts at the sizes of the field's datasets: ``reports/data_scale.md``.

For each layout and size, a synthetic log is written in the exact published format (Amazon
Reviews 2023: gzip JSON Lines with review texts and a metadata file; MovieLens 32M:
``ratings.csv`` and ``movies.csv``), then a fresh Python process reads it with
:func:`~instructrec_peft.data.presets.load_preset` and splits it with
:func:`~instructrec_peft.data.split.leave_one_out`, timing each step and reading the process's peak
resident memory (``VmHWM``) after each step. One process per measurement, so no run inherits
another's memory. Users are a twentieth of the interactions and items a fiftieth, with a skewed
(squared uniform) item popularity; the ids and value formats are the published ones.

    python recipes/bench_data_scale.py --sizes 1000000 10000000
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from instructrec_peft.errors import ArgumentError

from .report_store import SectionStore
from .runs import high_water_mb

__all__ = ["LAYOUTS", "write_layout", "measure", "run_data_scale", "render"]

LAYOUTS = {"amazon-2023": "amazon-2023", "ml-32m": "movielens"}  # layout -> preset that reads it
GENRES = ["Fantasy", "Mystery", "Romance", "History", "Science Fiction", "Poetry", "Horror", "Biography"]


def _ids(rng, n: int, users: int, items: int) -> tuple[np.ndarray, np.ndarray]:
    user = rng.integers(0, users, n)
    item = np.minimum((items * rng.random(n) ** 2).astype(np.int64), items - 1)  # a popular head, a long tail
    return user, item


CHUNK = 1_000_000  # rows generated and written at a time, so writing 10^7 rows needs little memory


def _write_chunks(path: Path, chunks, kind: str) -> None:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:
        for number, frame in enumerate(chunks):
            if kind == "jsonl":
                handle.write(frame.to_json(orient="records", lines=True))  # one object per line, "\n"-ended
            else:
                handle.write(frame.to_csv(index=False, header=number == 0))


def write_layout(layout: str, folder: Path, n: int, seed: int = 0) -> Path:
    """Write ``n`` synthetic interactions in ``layout``'s published format into ``folder`` (new)."""
    rng = np.random.default_rng(seed)
    users, items = max(n // 20, 1), max(n // 50, 10)
    folder.mkdir(parents=True)

    def interactions():
        for start in range(0, n, CHUNK):
            size = min(CHUNK, n - start)
            user, item = _ids(rng, size, users, items)
            seconds = 1_500_000_000 + rng.integers(0, 200_000_000, size)
            yield user, item, seconds, rng.integers(1, 6, size).astype(float)

    if layout == "amazon-2023":
        asins = np.char.add("B0", np.char.zfill(np.arange(items).astype(str), 8))
        user_ids = np.char.add("AE", np.char.zfill(np.arange(users).astype(str), 26))
        texts = np.array([" ".join(rng.choice(["good", "story", "the", "read", "and", "characters", "plot", "slow"],
                                              size=35)) for _ in range(64)])
        _write_chunks(folder / "Books.jsonl.gz", (pd.DataFrame({
            "rating": rating, "title": "Worth it", "text": texts[rng.integers(0, 64, len(user))],
            "images": [[]] * len(user), "asin": asins[item], "parent_asin": asins[item], "user_id": user_ids[user],
            "timestamp": seconds * 1000 + rng.integers(0, 1000, len(user)), "helpful_vote": 0,
            "verified_purchase": True}) for user, item, seconds, rating in interactions()), "jsonl")
        meta = pd.DataFrame({"main_category": "Books", "title": [f"Book number {i}" for i in range(items)],
                             "average_rating": 4.2, "rating_number": 10, "features": [[]] * items,
                             "description": [[]] * items, "price": None, "images": [[]] * items,
                             "videos": [[]] * items, "store": "Some Press",
                             "categories": [["Books", GENRES[i % len(GENRES)]] for i in range(items)],
                             "details": [{}] * items, "parent_asin": asins})
        _write_chunks(folder / "meta_Books.jsonl.gz", [meta], "jsonl")
    elif layout == "ml-32m":
        _write_chunks(folder / "ratings.csv", (pd.DataFrame({
            "userId": user + 1, "movieId": item + 1, "rating": rating / 2 + 0.5 * (rating % 2), "timestamp": seconds})
            for user, item, seconds, rating in interactions()), "csv")
        pd.DataFrame({"movieId": np.arange(1, items + 1), "title": [f"Movie {i} ({1950 + i % 70})" for i in
                                                                     range(items)],
                      "genres": [GENRES[i % 8] + "|" + GENRES[(i + 3) % 8] for i in range(items)]}
                     ).to_csv(folder / "movies.csv", index=False)
    else:
        raise ArgumentError(f"unknown layout {layout!r}; expected one of {sorted(LAYOUTS)}")
    return folder


def _peak_gib() -> float:
    """This process's peak resident memory so far (VmHWM: its own, unlike ``ru_maxrss``, which a
    process started by fork + exec inherits from its parent)."""
    mb = high_water_mb(os.getpid())
    return (mb if mb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024) / 1024


def child(layout: str, folder: str) -> dict:
    """In this process: import, load the preset, split; the seconds and the peak memory."""
    started = time.perf_counter()
    from instructrec_peft.data.presets import load_preset
    from instructrec_peft.data.split import leave_one_out

    imported, after_import = time.perf_counter(), _peak_gib()
    log = load_preset(LAYOUTS[layout], folder)
    loaded, after_load = time.perf_counter(), _peak_gib()
    split = leave_one_out(log)
    done = time.perf_counter()
    return {"rows_read": log.report.rows_in, "rows": len(log.interactions), "users": log.report.users,
            "items": log.report.items, "evaluated": len(split.evaluated), "import_s": imported - started,
            "load_s": loaded - imported, "split_s": done - loaded, "import_gib": after_import,
            "load_peak_gib": after_load, "peak_gib": _peak_gib(), "times": log.report.times}


def measure(layout: str, n: int, workdir: Path) -> dict:
    folder = workdir / f"{layout}-{n}"
    started = time.perf_counter()
    write_layout(layout, folder, n)
    written = time.perf_counter() - started
    size = sum(p.stat().st_size for p in folder.iterdir())
    code = ("import json, sys\nfrom benchmarks.data_scale import child\n"
            "print(json.dumps(child(sys.argv[1], sys.argv[2])))")
    # The child imports benchmarks/ from the checkout (it is not installed with the package).
    path = os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-c", code, layout, str(folder)], capture_output=True, text=True,
                         env=dict(os.environ, TOKENIZERS_PARALLELISM="false", PYTHONPATH=path))
    if run.returncode != 0:
        print(f"{layout} at {n}: the measuring process failed:\n{run.stderr[-3000:]}", file=sys.stderr)
        run.check_returncode()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    return {**json.loads(run.stdout.strip().splitlines()[-1]), "n": n, "files_mb": size / 1e6, "write_s": written}


def run_data_scale(report: Path, sizes: list[int], layouts: list[str], workdir: str | None = None) -> dict:
    store = SectionStore(report, render)
    store.data["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "pandas": pd.__version__, "pyarrow": __import__("pyarrow").__version__}
    with tempfile.TemporaryDirectory(prefix="instructrec-scale-", dir=workdir) as tmp:
        for layout in layouts:
            for n in sizes:
                print(f"{layout}: {n:,} interactions ...", flush=True)
                store.run(f"{layout}/{n}", lambda: measure(layout, n, Path(tmp)))
    return store.data


def render(data: dict) -> str:
    machine = data.get("machine", {})
    lines = ["# Loading and splitting at scale", "",
             "Written by `python recipes/bench_data_scale.py` (`benchmarks/data_scale.py`): a "
             "synthetic log in the published layout, then in a fresh process `load_preset` (read, parse times, "
             "clean, build the catalogue) and `leave_one_out`. Memory is the process's peak resident set (`VmHWM`) "
             "after the imports, after loading and at the end (imports included). Users are a twentieth of the "
             "interactions, items a fiftieth; item popularity is skewed (squared uniform).", "",
             f"Machine: {machine.get('cpus')} CPUs, Python {machine.get('python')}, pandas {machine.get('pandas')}, "
             f"pyarrow {machine.get('pyarrow')}.", "",
             "| layout | interactions | users | items | files (MB) | load (s) | split (s) | "
             "peak after imports (GiB) | peak after load (GiB) | peak (GiB) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    runs = sorted(((k, v) for k, v in data.items() if "/" in k), key=lambda kv: (kv[0].split("/")[0], kv[1]["n"]))
    for key, run in runs:
        lines.append(f"| {key.split('/')[0]} | {run['rows']:,} | {run['users']:,} | {run['items']:,} | "
                     f"{run['files_mb']:,.0f} | {run['load_s']:.1f} | {run['split_s']:.1f} | "
                     f"{run['import_gib']:.2f} | {run['load_peak_gib']:.2f} | {run['peak_gib']:.2f} |")
    lines += ["", f"Written and measured in {sum(run['minutes'] for _, run in runs):.0f} min. How each run's "
              "timestamps were read (the cleaning report's line):", ""]
    lines += [f"- {key}: {run['times']}" for key, run in runs]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # the measuring child is started with -c; this is for a quick look
    print(json.dumps(child(sys.argv[1], sys.argv[2]), indent=1))
