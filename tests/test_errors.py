"""Every error the package raises on purpose is one of ours (``errors.py``), so callers can catch
them apart; each still is the built-in type it refines."""

import ast
from pathlib import Path

import pytest

from instructrec_peft import errors

PACKAGE = Path(__file__).resolve().parents[1] / "instructrec_peft"
# Not errors: leaving a command-line entry point, the package root's lazy attribute protocol,
# and an abstract method.
ALLOWED = {"SystemExit", "AttributeError", "NotImplementedError"}


def _raised(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
            found.append((node.lineno, node.exc.func.id))
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_raised_error_is_ours(path):
    foreign = [f"line {line}: {name}" for line, name in _raised(path)
               if name not in ALLOWED and not (name in errors.__all__ and issubclass(getattr(errors, name),
                                                                                       errors.InstructRecError))]
    assert foreign == [], f"{path.name} raises errors that are not instructrec_peft.errors classes: {foreign}"


def test_each_error_is_also_the_builtin_it_refines():
    expected = {"ConfigError": ValueError, "ArgumentError": ValueError, "DataError": ValueError,
                "TemplateError": ValueError, "FormatError": errors.TemplateError, "ScoringError": ValueError,
                "AssetError": RuntimeError, "MissingFileError": FileNotFoundError,
                "MissingDependencyError": ImportError, "WriteError": OSError}
    assert sorted(expected) == sorted(n for n in errors.__all__ if n != "InstructRecError")
    for name, parent in expected.items():
        cls = getattr(errors, name)
        assert issubclass(cls, errors.InstructRecError) and issubclass(cls, parent), name
