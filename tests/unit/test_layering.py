"""The package's import graph: no cycles, and the layering rules of
``docs/developers/architecture.md``.

The graph is read from the source with :mod:`ast` (nothing is imported), counting every import a
module runs, function-level ones too; imports under ``if TYPE_CHECKING:`` are left out, as they
never run.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "dialguard"

TRANSPORTS = ("agi", "esl")
SHELLS = ("api", "cli", "console")
APPLICATION = ("app", "workers", "preflight", "__main__")
FEATURES = ("recording", "rights", "audit", "reports", "campaigns", "tokens", "dnc")
ABOVE_FEATURES = (*TRANSPORTS, *SHELLS, *APPLICATION, "gate", "ops")
BASE_BUT_SETTINGS = ("policy", "numbers", "clock", "phrases", "files", "config")

FORBIDDEN: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "settings",
        (*ABOVE_FEATURES, *FEATURES, *BASE_BUT_SETTINGS, "storage"),
        "settings are a leaf",
    ),
    ("config", (*ABOVE_FEATURES, *FEATURES, "storage", "policy"), "config only composes settings"),
    ("policy", (*ABOVE_FEATURES, *FEATURES, "storage", "config", "files"), "the policy is pure"),
    ("phrases", (*ABOVE_FEATURES, *FEATURES, "storage", "config"), "phrase matching is pure"),
    ("files", (*ABOVE_FEATURES, *FEATURES, "storage", "policy"), "file utilities know no feature"),
    ("storage", (*ABOVE_FEATURES, *FEATURES), "storage imports no feature"),
    ("recording", (*ABOVE_FEATURES, "rights", "reports"), "features sit below gate and ops"),
    ("rights", ABOVE_FEATURES, "features sit below gate and ops"),
    ("audit", (*ABOVE_FEATURES, "recording", "rights", "reports"), "features sit below ops"),
    ("reports", ABOVE_FEATURES, "features sit below ops"),
    ("campaigns", ABOVE_FEATURES, "features sit below ops"),
    ("tokens", ABOVE_FEATURES, "features sit below ops"),
    ("dnc", (*ABOVE_FEATURES, "storage"), "the files' DNC needs no database"),
    ("ops", (*TRANSPORTS, *SHELLS, *APPLICATION, "gate"), "operations serve every door"),
    ("gate", (*TRANSPORTS, *SHELLS, *APPLICATION), "the gate core is transport-neutral"),
    ("esl", ("agi", *SHELLS, *APPLICATION), "esl/ is ESL only"),
    ("agi", ("esl", *SHELLS, *APPLICATION), "agi/ is FastAGI only"),
    ("api", ("cli", "agi", "esl", *APPLICATION), "a shell over library functions"),
    ("console", ("cli", "agi", "esl", *APPLICATION), "a shell over library functions"),
    ("cli", ("api", "console", "agi.server", "esl"), "a shell over library functions"),
)
"""(importer, what it must not import, why): names are below ``dialguard.``; a name covers its
submodules (``agi`` is every module of ``dialguard/agi/``)."""

SQLALCHEMY_USERS = ("storage", "audit.verify", "audit.rows", "audit.verify_process")
"""Audit verification reads rows as stored, on purpose not through the repositories it checks."""


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


MODULES = dict(_modules())


def _type_checking_only(tree: ast.Module) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    return skipped


def _imported(module: str, path: Path) -> Iterator[str]:
    """Every module of the package (or other top-level name) ``module`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                yield submodule if submodule in MODULES else source


def _owner(name: str) -> str | None:
    """The package module ``name`` is, or is inside; None outside the package."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


@cache
def module_graph() -> dict[str, frozenset[str]]:
    graph: dict[str, frozenset[str]] = {}
    for module, path in MODULES.items():
        owners = {_owner(name) for name in _imported(module, path)}
        graph[module] = frozenset(o for o in owners if o is not None and o != module)
    return graph


def external_imports() -> dict[str, set[str]]:
    return {
        module: {name.partition(".")[0] for name in _imported(module, path)}
        for module, path in MODULES.items()
    }


def unit_of(module: str) -> str:
    """``dialguard.storage.store`` → ``storage``; ``dialguard.app`` → ``app``."""
    return module.split(".")[1] if "." in module else module


def cycles(graph: Mapping[str, Collection[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back() -> None:
    assert cycles(module_graph()) == []


def test_no_subpackage_imports_itself_back() -> None:
    units: dict[str, set[str]] = {}
    for module, imported in module_graph().items():
        units.setdefault(unit_of(module), set()).update(
            unit_of(other) for other in imported if unit_of(other) != unit_of(module)
        )
    assert cycles(units) == []


def _covers(name: str, module: str) -> bool:
    full = f"dialguard.{name}"
    return module == full or module.startswith(f"{full}.")


@pytest.mark.parametrize(("importer", "forbidden", "why"), FORBIDDEN, ids=[r[0] for r in FORBIDDEN])
def test_layering_rule(importer: str, forbidden: tuple[str, ...], why: str) -> None:
    broken = sorted(
        f"{module} imports {other}"
        for module, imported in module_graph().items()
        if _covers(importer, module)
        for other in imported
        if any(_covers(name, other) for name in forbidden)
    )
    assert broken == [], why


def test_only_storage_and_audit_verification_use_sqlalchemy() -> None:
    users = sorted(
        module
        for module, names in external_imports().items()
        if "sqlalchemy" in names or "alembic" in names
    )
    assert users
    assert [m for m in users if not any(_covers(name, m) for name in SQLALCHEMY_USERS)] == []


def test_the_rules_name_real_parts_of_the_package() -> None:
    units = {unit_of(module) for module in MODULES}
    named = {name.partition(".")[0] for _, forbidden, _ in FORBIDDEN for name in forbidden}
    named |= {importer for importer, _, _ in FORBIDDEN}
    assert named - units == set()
