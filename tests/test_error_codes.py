"""Each error code is defined once: one class of app/ spells it (`code = "..."`); every other
class answering it inherits or references that one."""

from __future__ import annotations

import ast
from collections import defaultdict

from tests.conftest import REPO_ROOT


def _code_literals() -> dict[str, list[str]]:
    """Every `code = "<literal>"` in a class body of app/: {code: [where, ...]}."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in (REPO_ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            for statement in node.body:
                if isinstance(statement, ast.Assign):
                    targets, value = statement.targets, statement.value
                elif isinstance(statement, ast.AnnAssign):
                    targets, value = [statement.target], statement.value
                else:
                    continue
                named_code = any(isinstance(t, ast.Name) and t.id == "code" for t in targets)
                if named_code and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    relative = path.relative_to(REPO_ROOT)
                    found[value.value].append(f"{relative}:{statement.lineno} {node.name}")
    return found


def test_no_error_code_is_spelled_by_two_classes() -> None:
    literals = _code_literals()
    assert "account_not_found" in literals, "the scan sees the codes"
    assert {code: where for code, where in literals.items() if len(where) > 1} == {}
