"""Imports run one way through the pipeline's stages; this test reads every module's imports."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "instructrec_peft"
BENCHMARKS = PACKAGE.parent / "benchmarks"  # the reports' machinery, above the whole library, outside the wheel
# Bottom to top: a module may import its own stage and the stages below it, never above.
STAGES = ["base", "data", "instructions", "config", "models", "inference", "evaluation", "hub", "training",
          "commands", "cli"]
# The only modules outside a stage folder (and the root):
BASE = {"errors", "exports", "files", "logs", "run_dir", "_version"}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "benchmarks":
        return "benchmarks"
    if len(parts) == 1:
        return "root"
    return "base" if parts[1] in BASE else parts[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    return _imports_of(_module(path), path.name == "__init__.py", path.read_text())


def _imports_of(module: str, is_package: bool, source: str) -> list[tuple[int, str]]:
    """(line, absolute module) of every package-internal import, at any depth of the source."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(anchor + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] not in ("instructrec_peft", "benchmarks"):
                continue
            if node.module is None or target in ("instructrec_peft",):
                # `from . import x`: each name is a submodule (or a name of the package root).
                found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, target))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names
                      if a.name.split(".")[0] in ("instructrec_peft", "benchmarks")]
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py")


def test_every_module_sits_in_a_stage():
    strays = [_module(p) for p in MODULES if _stage(_module(p)) not in STAGES]
    assert strays == [], f"modules outside the stage folders {STAGES[1:]} and {sorted(BASE)}: {strays}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module(p))
def test_imports_run_one_way(path):
    own = STAGES.index(_stage(_module(path)))
    wrong = []
    for line, target in _imports(path):
        stage = _stage(target)
        if stage == "benchmarks":
            wrong.append(f"line {line}: {target} (the library never imports the benchmarks)")
        elif stage == "root":
            wrong.append(f"line {line}: {target} (the package root re-exports every stage; import the module)")
        elif STAGES.index(stage) > own:
            wrong.append(f"line {line}: {target} ({stage} is above {STAGES[own]})")
    assert wrong == [], f"{_module(path)} imports against the stage order {' -> '.join(STAGES)}:\n" + "\n".join(wrong)


def test_the_checker_resolves_every_form_of_import():
    # A lazy import inside a function is still a dependency; the checker must see it.
    source = ("from ..errors import DataError\nfrom . import atomic\nimport instructrec_peft.config\n"
              "def f():\n    from ..training.tuning import run_tuning\nimport numpy\n")
    assert _imports_of("instructrec_peft.data.split", False, source) == [
        (1, "instructrec_peft.errors"), (2, "instructrec_peft.data.atomic"), (3, "instructrec_peft.config"),
        (5, "instructrec_peft.training.tuning")]
    assert [_stage(m) for _, m in _imports_of("instructrec_peft.data.split", False, source)] == [
        "base", "data", "config", "training"]


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.py")), ids=lambda p: p.stem)
def test_the_benchmarks_import_the_library_and_each_other_only(path):
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    targets = [t for _, t in _imports_of(module, path.name == "__init__.py", path.read_text())]
    assert [t for t in targets if _stage(t) not in STAGES + ["benchmarks"]] == [], "import the module, not the root"
    assert not (PACKAGE / "experiments").exists()


@pytest.mark.parametrize("stage", [s for s in STAGES[1:-1] if s != "commands"])
def test_each_stage_exports_its_public_names(stage):
    import importlib
    import inspect

    package = importlib.import_module(f"instructrec_peft.{stage}")
    assert package.__all__, f"instructrec_peft.{stage} exports nothing"
    for name in package.__all__:
        value = getattr(package, name)  # imported on first use
        assert not inspect.ismodule(value), f"{stage}.{name} is a module: a name and a module may not share it"
        assert not callable(value) or value.__module__.startswith(f"instructrec_peft.{stage}."), (stage, name)


def test_importing_a_data_module_leaves_torch_unimported():
    import subprocess
    import sys

    code = "import sys, instructrec_peft.data.split, instructrec_peft.training; print('torch' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert run.stdout.strip() == "False", run.stderr[-2000:]


@pytest.mark.parametrize("module", ["training/trainer.py", "inference/recommender.py"])
def test_the_trainer_and_the_recommender_leave_the_item_space_to_it(module):
    # Everything that differs between catalogue text and item tokens is the item space's
    # (inference/spaces/): these modules call it and test nothing of which one a run uses.
    tree = ast.parse((PACKAGE / module).read_text())
    branches = [f"line {node.lineno}: {ast.unparse(node.test)}" for node in ast.walk(tree)
                if isinstance(node, (ast.If, ast.IfExp)) and "tokens" in ast.unparse(node.test)]
    assert branches == [], f"{module} branches on the item space:\n" + "\n".join(branches)
