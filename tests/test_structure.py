"""The shape of `app/`: no package imports a package that imports it; claims that skip
locked rows are made by the one durable-work primitive (`app.core.queue`)."""

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


# Calls with `skip_locked=True` outside `app/core/queue.py`: (file under app/, function).
SKIP_LOCKED_ELSEWHERE = {
    # One account's background refresh under its row lock, given up when another replica
    # holds it: a lock on a known row, not a claim of due work.
    ("tokens/manager.py", "refresh_if_due"),
    # Deleting expired idempotency keys a few at a time, passing over rows another request
    # is deleting: housekeeping, nothing claimed, leased or settled.
    ("idempotency/service.py", "_purge_expired"),
}


class _SkipLockedCalls(ast.NodeVisitor):
    """Each call passing `skip_locked=True`, by its innermost enclosing function."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.functions = ["<module>"]
        self.found: set[tuple[str, str]] = set()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg == "skip_locked" and isinstance(value, ast.Constant) and value.value:
                self.found.add((self.path, self.functions[-1]))
        self.generic_visit(node)


def _skip_locked_calls() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in APP.rglob("*.py"):
        visitor = _SkipLockedCalls(path.relative_to(APP).as_posix())
        visitor.visit(ast.parse(path.read_text()))
        found |= visitor.found
    return found


def test_claims_that_skip_locked_rows_live_in_the_queue_primitive() -> None:
    calls = _skip_locked_calls()
    assert ("core/queue.py", "claim") in calls, "the scan sees the primitive's claim"
    elsewhere = {call for call in calls if call[0] != "core/queue.py"}
    assert elsewhere == SKIP_LOCKED_ELSEWHERE, (
        "claim due work through app.core.queue.WorkQueue; a lock that is no claim, or a "
        "claim on its way there, is listed in SKIP_LOCKED_ELSEWHERE with why"
    )
