"""Fault injection at every write: a kill (SIGKILL) or a full disk (RLIMIT_FSIZE) at the k-th file
operation of a tuning run or of the feedback log, then recovery, loading and resuming.

Run by ``tests/test_faults.py`` as ``python fault_sweep.py tuning|feedback SPEC.json RESULT.json``.
The process imports the package once and forks a child per run, so each fault costs a tiny run,
not an interpreter start; it runs no torch computation itself (a fork after OpenMP has started
can hang), only file checks between the children.

A "write" is a file operation Python's audit hooks see under the run folder: an ``open`` for
writing (``open``, ``os.open``, ``mkstemp``), a rename or replace, a removal, a folder made or
removed. Files written by native code (safetensors, tokenizers, torch.save) are written between
two such events, so a kill at every event also cuts the run between every pair of native writes.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sys
import traceback
from pathlib import Path

WRITE_EVENTS = {"open", "os.rename", "os.remove", "os.mkdir", "os.rmdir", "shutil.rmtree", "os.truncate"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _is_write(event: str, args: tuple) -> bool:
    if event != "open":
        return True
    _, mode, flags = args
    if mode is not None:
        return any(c in str(mode) for c in "wax+")
    return bool(flags & WRITE_FLAGS)


def install_fault(root: Path, at: int | None, action: str, counter: list[int]) -> None:
    """Count write events under ``root`` in ``counter[0]``; at the ``at``-th, kill the process
    (``kill``) or make every later write that grows a file fail, as a full disk does (``full``)."""
    root = str(root)

    def hook(event, args):
        if event not in WRITE_EVENTS or not args:
            return
        path = args[0]
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        if not isinstance(path, (str, os.PathLike)) or not str(path).startswith(root):
            return
        if not _is_write(event, args):
            return
        counter[0] += 1
        if counter[0] == at:
            if action == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))

    sys.addaudithook(hook)


def in_child(fn) -> int:
    """Run ``fn`` in a forked child: its exit status (0, 1 on an exception) or minus the signal."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            fn()
        except BaseException:
            code = 1
            try:  # stderr may be a file that the simulated full disk also refuses
                traceback.print_exc()
            except BaseException:
                pass
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


# ---- tuning -------------------------------------------------------------------------------------

def tuning_sweep(spec: dict) -> dict:
    import torch  # noqa: F401  (imported before forking, used only in the children)
    from safetensors.torch import load_file
    from training_helpers import tiny_configs

    from instructrec_peft.errors import InstructRecError
    from instructrec_peft.inference.recommender import Recommender
    from instructrec_peft.run_dir import RunDir
    from instructrec_peft.training.tuning import run_tuning

    assets, root = spec["assets"], Path(spec["root"])
    old_run = dict(seed=0, max_steps=2)
    new_run = dict(seed=1, max_steps=4, save_strategy="steps", save_steps=2, save_total_limit=None)

    def tune(out, resume=None, **run):
        def go():
            import torch

            torch.set_num_threads(1)
            run_tuning(*tiny_configs(assets, out, resume_from_checkpoint=resume, **run))
        return go

    ref_a, ref_b = root / "ref-a", root / "ref-b"
    assert in_child(tune(ref_a, **old_run)) == 0 and in_child(tune(ref_b, **new_run)) == 0
    weights = {name: load_file(ref / "adapter_model.safetensors") for name, ref in (("old", ref_a), ("new", ref_b))}

    def fresh() -> Path:
        work = root / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(ref_a, work)  # the previous adapter, which the new run replaces
        return work

    counter_file = root / "events.json"

    def count():
        counter = [0]
        install_fault(root / "work", None, "kill", counter)
        tune(root / "work", **new_run)()
        counter_file.write_text(json.dumps(counter[0]))

    fresh()
    assert in_child(count) == 0
    events = json.loads(counter_file.read_text())
    at = spec.get("at") or list(range(1, events + 1, spec.get("every", 1)))
    rows = []
    for action in spec["actions"]:
        for k in at:
            work = fresh()

            def faulty():
                install_fault(work, k, action, [0])
                tune(work, **new_run)()

            status = in_child(faulty)
            leftovers_before = sorted(p.name for p in work.iterdir() if p.name.startswith("."))
            row = {"action": action, "at": k, "status": status, "leftovers": leftovers_before}
            run = RunDir(work)
            try:
                run.recover()
                run.verify()
                current = load_file(work / "adapter_model.safetensors")
                row["state"] = next((name for name, ref in weights.items()
                                     if ref.keys() == current.keys() and all(torch.equal(ref[key], current[key])
                                                                             for key in ref)), "mixed")
            except InstructRecError as err:
                row["state"] = f"refused: {err}"
            row["cleaned"] = sorted(p.name for p in work.iterdir() if p.name.startswith(".")) == []
            row["checkpoints"] = [c.path.name for c in run.checkpoints()]
            row["loads"] = in_child(lambda: Recommender.from_pretrained(str(work))) == 0
            resume = "latest" if run.checkpoints() else None
            row["resumed"] = in_child(tune(work, resume=resume, **new_run)) == 0
            if row["resumed"]:
                final = load_file(work / "adapter_model.safetensors")
                row["resumed_equal"] = final.keys() == weights["new"].keys() and all(
                    torch.allclose(final[key], weights["new"][key], atol=1e-6) for key in final)
                row["resumed_state_step"] = json.loads((work / "trainer_state.json").read_text())["global_step"]
            rows.append(row)
    return {"events": events, "rows": rows}


# ---- feedback log -------------------------------------------------------------------------------

def feedback_sweep(spec: dict) -> dict:
    from instructrec_peft.data.feedback import Feedback, FeedbackLog
    from instructrec_peft.errors import WriteError

    root = Path(spec["root"])
    path = root / "feedback.jsonl"
    records = [Feedback(user=f"u{i}", item=f"item {i}", accepted=i % 2 == 0, comment="c" * i, time=float(i))
               for i in range(1, 4)]
    line = (json.dumps({k: v for k, v in vars(records[2]).items() if k != "history"}) + "\n").encode()
    rows = []

    def reset():
        path.unlink(missing_ok=True)
        log = FeedbackLog(path)
        for record in records[:2]:
            log.append(record)
        return path.stat().st_size

    # A full disk at every byte of the third record: the append fails, the file is as it was.
    for cut in range(len(line)):
        size = reset()

        def full():
            resource.setrlimit(resource.RLIMIT_FSIZE, (size + cut, resource.RLIM_INFINITY))
            try:
                FeedbackLog(path).append(records[2])
            except WriteError:
                os._exit(3)

        status = in_child(full)
        log = FeedbackLog(path)
        rows.append({"action": "full", "at": cut, "status": status, "size_kept": path.stat().st_size == size,
                     "read": [r.item for r in log.read()], "skipped": len(log.skipped)})
    # A kill at every file operation of an append (the lock file, the log) and after every byte
    # written: the write stopped there, as a crash or a power cut leaves it; the next append and
    # the reader must still give back every complete record.
    counter_file = root / "events.json"

    def count():
        counter = [0]
        install_fault(root, None, "kill", counter)
        FeedbackLog(path).append(records[2])
        counter_file.write_text(json.dumps(counter[0]))

    reset()
    assert in_child(count) == 0
    events = json.loads(counter_file.read_text())
    for k in range(1, events + 1):
        reset()

        def killed():
            install_fault(root, k, "kill", [0])
            FeedbackLog(path).append(records[2])

        rows.append(_after_kill("kill-event", k, in_child(killed), path, records))
    for cut in range(len(line) + 1):
        reset()

        def torn():
            real = os.write

            def short(fd, data):
                real(fd, data[:cut])
                os.kill(os.getpid(), signal.SIGKILL)
            os.write = short
            FeedbackLog(path).append(records[2])

        rows.append(_after_kill("kill-mid-write", cut, in_child(torn), path, records))
    return {"events": events, "record_bytes": len(line), "rows": rows}


def _after_kill(action, at, status, path, records) -> dict:
    from instructrec_peft.data.feedback import Feedback, FeedbackLog

    log = FeedbackLog(path)
    before = [r.item for r in log.read()]
    log.append(Feedback(user="u9", item="item 9", accepted=True, time=9.0))
    after = FeedbackLog(path)
    return {"action": action, "at": at, "status": status, "read": before,
            "after_append": [r.item for r in after.read()], "skipped": len(after.skipped)}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    kind, spec_path, out_path = sys.argv[1:4]
    spec = json.loads(Path(spec_path).read_text())
    result = tuning_sweep(spec) if kind == "tuning" else feedback_sweep(spec)
    Path(out_path).write_text(json.dumps(result, indent=1))
