"""The ``pbx`` tests live in ``tests/e2e`` only: ``./dev test`` runs its PBX half on that folder
alone (``-o testpaths=tests/e2e``), so a ``pbx`` test elsewhere would never run there."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parents[1]
E2E = TESTS / "e2e"


def _names_pbx(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "pbx":
        return isinstance(node.value, ast.Attribute) and node.value.attr == "mark"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "add_marker" and any(
            isinstance(arg, ast.Constant) and arg.value == "pbx" for arg in node.args
        )
    return False


def _marks_pbx(path: Path) -> bool:
    """Whether ``path`` names the ``pbx`` marker: ``….mark.pbx`` or a ``"pbx"`` given to
    ``add_marker``."""
    return any(_names_pbx(node) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def test_no_pbx_test_outside_tests_e2e() -> None:
    outside = [path for path in TESTS.rglob("*.py") if E2E not in path.parents]
    assert outside
    assert [str(path.relative_to(TESTS)) for path in outside if _marks_pbx(path)] == []


def test_every_test_file_in_tests_e2e_is_marked_pbx() -> None:
    files = sorted(E2E.glob("test_*.py"))
    assert files
    assert [path.name for path in files if not _marks_pbx(path)] == []


def test_the_scan_finds_both_spellings(tmp_path: Path) -> None:
    marked = tmp_path / "test_marked.py"
    marked.write_text("import pytest\n\n@pytest.mark.pbx\ndef test_x() -> None: ...\n")
    added = tmp_path / "conftest.py"
    added.write_text("def pytest_itemcollected(item):\n    item.add_marker('pbx')\n")
    other = tmp_path / "test_other.py"
    other.write_text("import pytest\n\n@pytest.mark.postgres\ndef test_pbx() -> None: ...\n")
    assert [_marks_pbx(path) for path in (marked, added, other)] == [True, True, False]
