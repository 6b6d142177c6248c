"""The shape of `app/`: no package imports a package that imports it."""

from __future__ import annotations

import ast
from collections import defaultdict

from tests.conftest import REPO_ROOT

APP = REPO_ROOT / "app"


def _package_imports() -> dict[str, set[str]]:
    """For each top-level package (or module) of app/, the others it imports."""
    imports: dict[str, set[str]] = defaultdict(set)
    for path in APP.rglob("*.py"):
        parts = path.relative_to(APP).parts
        package = parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            modules: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            for module in modules:
                if module.startswith("app."):
                    target = module.split(".")[1]
                    if target != package:
                        imports[package].add(target)
    return imports


def _cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in imports.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(imports):
        if node not in index:
            visit(node)
    return groups


def test_no_package_of_app_imports_a_package_that_imports_it() -> None:
    imports = _package_imports()
    assert imports["oauth"] >= {"accounts", "ads"}, "the scan sees the imports"
    assert _cycles(imports) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
