"""The product does not ship its test double: `tiktok_emulator/` is a development tool beside
`app/`, mounted by one development factory, and neither production nor its image holds it."""

from __future__ import annotations

import ast
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from app.main import EMULATOR_PATH, create_app
from tests.conftest import make_settings
from tests.test_settings import SAFE_PRODUCTION

ROOT = Path(__file__).resolve().parent.parent
EMULATOR = "tiktok_emulator"
# The one place in app/ allowed to import the emulator, and only inside this function.
MOUNT_POINT = ("app/main.py", "create_development_emulator")
# What the production image needs; nothing else is copied from the build context.
PRODUCTION_SOURCES = {"app", "migrations", "alembic.ini", "requirements/base.lock"}


def _imports(path: Path) -> list[tuple[str, int, tuple[str, ...]]]:
    """(module, line, enclosing functions) for every absolute import in a file."""
    found: list[tuple[str, int, tuple[str, ...]]] = []

    def visit(node: ast.AST, functions: tuple[str, ...]) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, functions) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno, functions))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions = (*functions, node.name)
        for child in ast.iter_child_nodes(node):
            visit(child, functions)

    visit(ast.parse(path.read_text(), filename=str(path)), ())
    return found


def _is(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_building_a_production_app_never_imports_the_emulator() -> None:
    script = f"""
import sys
from app.core.config import Settings
from app.main import create_app

assert {EMULATOR!r} not in sys.modules, "importing app.main imported the emulator"
production = {SAFE_PRODUCTION!r}
settings = Settings(_env_file=None, database_url="sqlite+aiosqlite:///:memory:", **production)
app = create_app(settings)
assert not any(getattr(route, "path", "") == {EMULATOR_PATH!r} for route in app.routes)
loaded = [name for name in sys.modules if name.partition(".")[0] == {EMULATOR!r}]
assert not loaded, loaded
print("no emulator")
"""
    result = subprocess.run(  # the interpreter running the tests, on a fixed script
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no emulator"


def test_only_the_development_factory_in_app_imports_the_emulator() -> None:
    importers = [
        (path.relative_to(ROOT).as_posix(), functions)
        for path in sorted((ROOT / "app").rglob("*.py"))
        for module, _, functions in _imports(path)
        if _is(module, EMULATOR)
    ]
    # One import, inside the factory and not at module level: importing app.main loads nothing.
    assert importers == [(MOUNT_POINT[0], (MOUNT_POINT[1],))]


def test_the_emulator_stands_alone() -> None:
    """It plays TikTok: it imports nothing from the product."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / EMULATOR).rglob("*.py"))
        for module, line, _ in _imports(path)
        if _is(module, "app")
    ]
    assert offenders == []


def test_a_development_app_without_the_emulator_installed_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, EMULATOR, None)  # as if the package were not there
    with pytest.raises(RuntimeError, match="tiktok_emulator` package is not installed"):
        create_app(make_settings(tiktok_client_id=None))


def test_the_production_image_does_not_copy_the_emulator() -> None:
    sources: list[str] = []
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        words = shlex.split(raw, comments=True)
        if not words or words[0].upper() != "COPY":
            continue
        if any(word.startswith("--from=") for word in words):
            continue  # from an earlier build stage, not from the build context
        args = [word for word in words[1:] if not word.startswith("--")]
        sources.extend(source.rstrip("/") for source in args[:-1])
    assert sources, "the Dockerfile copies nothing?"
    assert not [source for source in sources if EMULATOR in source]
    assert set(sources) <= PRODUCTION_SOURCES, sources


def test_the_package_and_its_runtime_dependencies_are_the_product_only() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["setuptools"]["packages"]["find"]["include"] == ["app*"]
    runtime = " ".join(pyproject["project"]["dependencies"]).lower()
    base_lock = (ROOT / "requirements" / "base.lock").read_text().lower()
    # Only the emulator parses forms; nothing imports jinja2.
    for name in ("python-multipart", "jinja2"):
        assert name not in runtime
        assert f"\n{name}==" not in base_lock


def test_httpcore_finds_sniffio_instead_of_searching_for_it_on_every_call() -> None:
    """httpcore imports sniffio each time it makes a lock (several per request); when it is
    missing, every attempt searches sys.path again (~1 ms of CPU per upstream call)."""
    base_lock = (ROOT / "requirements" / "base.lock").read_text().lower()
    assert "\nsniffio==" in base_lock
    import sniffio  # noqa: F401 - installed, as the lock says
    from httpcore._synchronization import current_async_library

    async def library() -> str:
        return current_async_library()

    import asyncio

    assert asyncio.run(library()) == "asyncio"
