"""Imports go one way: core <- features <- CLI / orchestration (ARCHITECTURE.md, "Layers").

An AST walk over every module of the shipped packages, imports inside functions included:
a core module imports only the core; a feature imports only the core and its own package;
only the top (onboard.cli, onboard.orchestrate) may import features. And no two modules
import each other, directly or round a longer loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from onboard.core.paths import PROJECT_DIR

PACKAGES = ("onboard", "sync")
CORE = "onboard.core"
TOP = ("onboard", "onboard.cli", "onboard.orchestrate", "onboard.__main__")
FEATURES = (
    "onboard.generate",
    "onboard.load",
    "onboard.validate",
    "onboard.build",
    "onboard.dashboard",
    "onboard.alerts",
    "onboard.experiments",
    "sync",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((PROJECT_DIR / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules a file imports (a `from package import module` names the module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        else:
            continue
        found.update(target for target in targets if target.split(".")[0] in PACKAGES)
    return found


def layer(module: str) -> str:
    if is_within(module, CORE):
        return CORE
    for top in TOP:
        if module == top:
            return "top"
    for feature in FEATURES:
        if is_within(module, feature):
            return feature
    return "unplaced"


def violation(importer: str, imported: str) -> str | None:
    """Why an import breaks the layer rule, or None when it is allowed."""
    source, target = layer(importer), layer(imported)
    if source == "top" or source == target or target == CORE:
        return None
    if source == CORE:
        return "the core imports only the core"
    return f"a feature ({source}) imports only the core and itself"


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, known) & set(known) for name, path in known.items()}


def test_every_module_has_a_layer():
    assert [name for name in modules() if layer(name) == "unplaced"] == []


def test_imports_go_one_way():
    broken = [
        f"{importer} imports {imported}: {why}"
        for importer, targets in sorted(import_graph().items())
        for imported in sorted(targets)
        if (why := violation(importer, imported))
    ]
    assert broken == []


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_module_imports_itself_round_a_loop():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize(
    ("importer", "imported", "allowed"),
    [
        ("onboard.core.db", "onboard.core.warehouse", True),
        ("onboard.core.db", "onboard.validate.runs", False),
        ("sync.runner", "onboard.core.db", True),
        ("sync.runner", "onboard.validate.runs", False),
        ("onboard.alerts.config", "sync.config", False),
        ("onboard.validate.runner", "onboard.validate.docs", True),
        ("onboard.cli", "sync.runner", True),
        ("onboard.orchestrate", "onboard.validate.runs", True),
    ],
)
def test_the_rule_itself(importer: str, imported: str, allowed: bool):
    assert (violation(importer, imported) is None) is allowed


def test_a_loop_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
