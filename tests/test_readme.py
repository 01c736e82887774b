"""The README's shell commands and Python snippets, checked against the code they describe.

Every ``bash`` and ``python`` block of the README is listed in ``BLOCKS`` with how it is checked,
so a block added, changed or removed fails here until it is looked at:

* each command line is parsed by the real parser of the command it names (``instructrec-peft``,
  ``python recipes/*.py``, ``python -m instructrec_peft...``, ``accelerate launch`` of either),
  stopping where the work would start: an option the code does not take fails here;
* ``make`` targets exist in the Makefile, scripts exist, ``pip`` lines are left to the wheel tests;
* each Python snippet compiles and every name it imports from the package exists;
* (slow) the blocks marked "run" (the pip user's commands, "Command line", the snippets that use
  the adapter they write) run for real from the installed wheel, in a folder outside the checkout
  (``test_the_pip_users_path_runs_outside_the_checkout``).
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import runpy
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# Each block, by its first line without the comment -> how it is checked: "parse" (every command
# parsed, the snippet compiled) or "run" (also run for real by the slow test).
BLOCKS = {
    'pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu': 'run',
    'make demo': 'parse',
    'python -m instructrec_peft.data.assets fetch': 'parse',
    'from instructrec_peft import ColumnMap, InteractionLog, ItemCatalog, leave_one_out': 'parse',
    'split = leave_one_out(log)': 'parse',
    'from instructrec_peft import templates, register_template': 'run',
    'from transformers import AutoTokenizer': 'parse',
    'instructrec-peft fetch': 'run',
    'python recipes/tune.py recipes/configs/demo-cpu.yaml': 'parse',
    'from instructrec_peft.config import parse_config': 'parse',
    'from peft import PeftModel': 'parse',
    'python recipes/tune.py recipes/configs/items-cpu.yaml': 'parse',
    'tokenizer = AutoTokenizer.from_pretrained("outputs/items-cpu")': 'parse',
    'python recipes/tune.py recipes/configs/rerank-cpu.yaml': 'parse',
    'python recipes/evaluate.py --adapter outputs/items-cpu --users 0': 'parse',
    'python recipes/evaluate.py --adapter outputs/demo-cpu --users 50 --by template': 'parse',
    'python recipes/select_templates.py recipes/configs/demo-cpu.yaml --folds 3 --max_steps 10 --eval_users 20 '
    '\\': 'parse',
    'from instructrec_peft.inference.recommender import Recommender': 'run',
    'python recipes/push.py outputs/items-cpu me/smollm2-movielens-recommender': 'parse',
    'make bench': 'parse',
    'make bench-ml1m': 'parse',
    'make bench-throughput': 'parse',
    'make report': 'parse',
}
# Words of the README that stand for a value of the reader's.
PLACEHOLDERS = {"CONFIG.yaml": "recipes/configs/items-cpu.yaml", "CONFIG": "recipes/configs/items-cpu.yaml",
                "my-run.yaml": "recipes/configs/items-cpu.yaml"}


def block_key(text: str) -> str:
    return " ".join(text.splitlines()[0].split("  #")[0].split())


def readme_blocks() -> list[tuple[str, str]]:
    """(language, text) of every bash and python block, outside the card excerpt's ```` fence."""
    blocks, fence, lang, lines = [], None, None, []
    for line in README.read_text().splitlines():
        match = re.match(r"^(`{3,})(\w*)\s*$", line)
        if fence is None and match:
            fence, lang, lines = match.group(1), match.group(2), []
        elif fence is not None and line.strip() == fence:
            if lang in ("bash", "python"):
                blocks.append((lang, "\n".join(lines)))
            fence = None
        elif fence is not None:
            lines.append(line)
    return blocks


def command_lines(text: str, placeholders: dict[str, str] = PLACEHOLDERS) -> list[tuple[list[str], str | None]]:
    """Each command of a bash block as words, with what it reads on stdin: continuations joined,
    comments dropped, ``[--opt]`` read as given, ``echo X | command`` giving ``X`` to the command,
    ``...`` (a line of the block above, plus an option) filled in with such a line's start."""
    commands = []
    for line in text.replace("\\\n", " ").splitlines():
        words, stdin = shlex.split(line, comments=True), None
        if "|" in words:
            at = words.index("|")
            stdin = " ".join(words[1:at]) + "\n" if words[0] == "echo" else None
            words = words[at + 1:]
        words = [placeholders.get(w, w) for w in (w.strip("[]") for w in words)]
        if "..." in words:  # "instructrec-peft recommend ... -v"
            at = words.index("...")
            words[at:at + 1] = ["outputs/items-cpu", "--history", "Star Wars (1977)"]
        if words:
            commands.append((words, stdin))
    return commands


class _Parsed(BaseException):
    """Raised once a command's arguments parsed, where its work would begin (not an Exception, so
    that no handler of the command catches it)."""


def parse_only(words: list[str], monkeypatch) -> None:
    """Parse ``words`` with the real parser of the command they name; stop before any work."""
    import argparse

    from transformers import HfArgumentParser

    import instructrec_peft.training.tuning as tuning

    real_args, real_known = argparse.ArgumentParser.parse_args, argparse.ArgumentParser.parse_known_args
    inside = []

    def parse_then_stop(self, args=None, namespace=None):
        inside.append(self)
        real_args(self, args, namespace)  # unknown options fail here
        raise _Parsed

    def parse_known_then_stop(self, args=None, namespace=None):
        # A script that takes the rest as config overrides (select_templates.py) stops here too; the
        # config parser itself (HfArgumentParser, tune's) goes on to check every field.
        known = real_known(self, args, namespace)
        if inside or isinstance(self, HfArgumentParser):
            return known
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", parse_known_then_stop)
    monkeypatch.setattr(tuning, "run_tuning", lambda *a, **k: (_ for _ in ()).throw(_Parsed()))
    monkeypatch.chdir(ROOT)
    if words[:2] == ["accelerate", "launch"]:
        rest = words[2:]
        while rest[0].startswith("--"):  # accelerate's own options, with a value unless a switch
            rest = rest[1:] if rest[0] in ("--multi_gpu", "--cpu") else rest[2:]
        words = ["python", *rest]
    if words[0] == "python" and words[1] == "-m":
        words = ["instructrec-peft", *words[3:]] if words[2] == "instructrec_peft.cli" else words
    if words[0] == "instructrec-peft":
        from instructrec_peft.cli import main

        call = lambda: main(words[1:])  # noqa: E731
    elif words[0] == "python" and words[1] == "-m":
        call = lambda: importlib.import_module(words[2]).main(words[3:])  # noqa: E731
    elif words[0] == "python":
        script = ROOT / words[1]
        assert script.is_file(), f"{words[1]} does not exist"
        call = lambda: runpy.run_path(str(script), run_name="readme")["main"](words[2:])  # noqa: E731
    elif words[0] == "make":
        targets = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()
        assert words[1] in targets, f"make {words[1]}: no such target"
        return
    elif words[0] == "bash":
        assert subprocess.run(["bash", "-n", str(ROOT / words[1])]).returncode == 0, words
        return
    elif words[0] == "pip":
        return  # installing is what tests/test_wheel.py and the slow test do
    else:
        raise AssertionError(f"the README runs {words[0]!r}, which this test does not know")
    try:
        status = call()
    except _Parsed:
        return
    except SystemExit as exit_:
        status = exit_.code
    assert status == 0 and ("--help" in words or "--help-all" in words), \
        f"{shlex.join(words)} did not parse (status {status})"


def test_every_readme_block_is_listed_with_how_it_is_checked():
    firsts = [block_key(text) for _, text in readme_blocks()]
    assert sorted(firsts) == sorted(BLOCKS), (
        f"README blocks not listed here: {sorted(set(firsts) - set(BLOCKS))}; "
        f"listed but gone from the README: {sorted(set(BLOCKS) - set(firsts))}")


@pytest.mark.parametrize("text", [t for lang, t in readme_blocks() if lang == "bash"],
                         ids=lambda t: t.splitlines()[0][:40])
def test_every_readme_command_parses_with_the_code_it_names(text, monkeypatch):
    for words, _ in command_lines(text):
        parse_only(words, monkeypatch)


@pytest.mark.parametrize("text", [t for lang, t in readme_blocks() if lang == "python"],
                         ids=lambda t: t.splitlines()[0][:40])
def test_every_readme_snippet_compiles_and_imports_what_exists(text):
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module.split(".")[0] == "instructrec_peft":
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{node.module} has no {alias.name}"


def test_a_command_the_code_does_not_take_fails_the_check(monkeypatch):
    with pytest.raises(AssertionError, match="did not parse"):
        parse_only(["instructrec-peft", "recommend", "outputs/items-cpu", "--histroy", "x"], monkeypatch)
    with pytest.raises(AssertionError, match="did not parse"):
        parse_only(["python", "recipes/benchmark.py", "--sections", "no-such-section"], monkeypatch)
    with pytest.raises(AssertionError, match="no such target"):
        parse_only(["make", "no-such-target"], monkeypatch)
    with pytest.raises(AssertionError, match="did not parse"):
        parse_only(["instructrec-peft", "tune", "items-cpu", "--lerning_rate", "1"], monkeypatch)


@pytest.mark.slow
def test_the_pip_users_path_runs_outside_the_checkout(tmp_path):
    """The blocks marked "run", for real, with the package installed from its wheel, in a folder
    outside the checkout: the pip user's commands, then "Command line" and the Python snippets,
    which use the adapter those commands wrote. Cut for time: every ``tune`` to 2 steps, ``evaluate``
    to 20 users. Left to other tests: ``pip`` (the wheel's install here), ``app``
    (tests/test_app.py, in a browser), ``push`` (tests/test_hub.py, to a local Hub server),
    ``accelerate launch`` (tests/test_launch.py, DDP over 2 CPU processes)."""
    from wheel_build import build_wheel, install_wheel

    site = install_wheel(build_wheel(tmp_path), tmp_path / "site")
    work = tmp_path / "work"
    work.mkdir()
    # A config of the user's own, for "tune my-run.yaml": the demo's, copied out of the package.
    (work / "my-run.yaml").write_text((ROOT / "instructrec_peft/config/named/items-cpu.yaml").read_text())
    env = {**os.environ, "PYTHONPATH": str(site),
           "PATH": os.pathsep.join([str(site / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]])}
    where = subprocess.run(["instructrec-peft", "--help"], cwd=work, env=env, capture_output=True, text=True)
    assert where.returncode == 0 and subprocess.run(
        [sys.executable, "-c", f"import instructrec_peft; assert instructrec_peft.__file__.startswith({str(site)!r})"],
        cwd=work, env=env).returncode == 0  # the wheel's package, not the checkout's
    ran = []
    for lang, text in readme_blocks():
        if BLOCKS.get(block_key(text)) != "run":
            continue
        if lang == "python":
            run = subprocess.run([sys.executable, "-c", text], cwd=work, env=env, capture_output=True, text=True)
            assert run.returncode == 0, f"{text}\n{run.stderr[-3000:]}"
            ran.append(block_key(text))
            continue
        for words, stdin in command_lines(text, placeholders={}):
            if words[0] in ("pip", "accelerate") or words[1] in ("app", "push"):
                continue
            if words[1] == "tune" and "--help" not in words:
                budget = {"--max_steps", "--num_train_epochs"}
                words = [w for n, w in enumerate(words) if w not in budget and (n == 0 or words[n - 1] not in budget)]
                words += ["--max_steps", "2"]
            if words[1] == "evaluate":
                words[words.index("--users") + 1] = "20"
            run = subprocess.run(words, cwd=work, env=env, input=stdin, capture_output=True, text=True)
            assert run.returncode == 0, f"{shlex.join(words)}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
            ran.append(shlex.join(words))
            if words[1] in ("recommend", "rank"):  # the ranked lines alone on stdout, a reason under each
                lines = run.stdout.splitlines()
                ranks = [int(m.group(1)) for m in (re.match(r"\s*(\d+)\. ", line) for line in lines) if m]
                k = (len(words) - words.index("--candidates") - 1 if words[1] == "rank" else
                     int(words[words.index("-k") + 1]) if "-k" in words else 10)
                assert ranks == list(range(1, k + 1)), run.stdout
                assert len(lines) == k * (2 if "--explain" in words else 1), run.stdout
    assert len(ran) == 15, ran
    assert (work / "outputs" / "items-cpu" / "adapter_model.safetensors").is_file()
