"""Generate the API clients from the committed openapi.json; `--check` fails on drift.

    .venv/bin/python clients/generate.py            # regenerate in place (`make clients`)
    .venv/bin/python clients/generate.py --check    # regenerate into a temp dir and diff

Generated, never edited by hand:

- clients/typescript/src/schema.ts, by openapi-typescript (pinned in
  clients/typescript/package-lock.json; `npm ci --prefix clients/typescript` installs it);
- all of clients/python/, by openapi-python-client (pinned in requirements/dev.lock), whose
  ruff post-hooks format it with the ruff of the same virtualenv.

Both are generated from the *client view* of openapi.json (`client_view`): the operations
no client should call are left out, whatever their operation ids are, so renaming operation
ids or retagging routes needs nothing here but a new `make clients`.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CLIENTS = Path(__file__).resolve().parent
ROOT = CLIENTS.parent
SPEC = ROOT / "openapi.json"
TYPESCRIPT = CLIENTS / "typescript"
PYTHON_CONFIG = CLIENTS / "openapi-python-client.yml"
OPENAPI_TYPESCRIPT = TYPESCRIPT / "node_modules" / ".bin" / "openapi-typescript"

# What each generator owns, relative to clients/.
GENERATED_TYPESCRIPT = Path("typescript/src/schema.ts")
GENERATED_PYTHON = Path("python")
LANGUAGES = ("typescript", "python")

# Routes tagged so that generated clients leave them out: the browser-only OAuth hops,
# TikTok's webhook receivers and the operations endpoints. Routes that require no
# credential at all (the same routes, before they carried these tags) are left out too.
EXCLUDED_TAGS = frozenset({"oauth-browser", "tiktok-webhooks", "ops"})
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# Left by tools in a generated tree, never committed (clients/python/.gitignore).
IGNORED_NAMES = frozenset({"__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache"})


def _is_public(operation: dict[str, Any], spec: dict[str, Any]) -> bool:
    """True when the operation can be called without any credential."""
    requirements = operation.get("security", spec.get("security"))
    return not requirements or any(not requirement for requirement in requirements)


def _is_for_clients(operation: dict[str, Any], spec: dict[str, Any]) -> bool:
    tags = set(operation.get("tags") or ())
    return not tags & EXCLUDED_TAGS and not _is_public(operation, spec)


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.removeprefix("#/components/schemas/")
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def client_view(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec less the operations clients must not call and the schemas only they used.

    OpenAPI 3.1 `webhooks` (the events the service sends to the CRM) are kept: clients type
    their payloads.
    """
    view = copy.deepcopy(spec)
    paths: dict[str, Any] = {}
    for path, item in spec.get("paths", {}).items():
        kept = {
            key: value
            for key, value in item.items()
            if key not in METHODS or _is_for_clients(value, spec)
        }
        if METHODS & kept.keys():
            paths[path] = kept
    view["paths"] = paths

    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    if schemas:
        reachable: set[str] = set()
        pending = list(_references({"paths": paths, "webhooks": spec.get("webhooks", {})}))
        while pending:
            name = pending.pop()
            if name not in reachable and name in schemas:
                reachable.add(name)
                pending.extend(_references(schemas[name]))
        view["components"]["schemas"] = {k: v for k, v in schemas.items() if k in reachable}

    used_tags = {
        tag
        for item in paths.values()
        for key, operation in item.items()
        if key in METHODS
        for tag in operation.get("tags") or ()
    }
    if "tags" in view:
        view["tags"] = [tag for tag in view["tags"] if tag.get("name") in used_tags]
    return view


def _run(command: list[str], **kwargs: Any) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603
    if result.returncode != 0:
        sys.exit(f"{' '.join(command[:2])} failed:\n{result.stdout}{result.stderr}")


def generate_typescript(view: Path, out: Path) -> None:
    if not OPENAPI_TYPESCRIPT.exists():
        sys.exit(
            f"{OPENAPI_TYPESCRIPT.relative_to(ROOT)} is missing: "
            "run `make clients-install` (npm ci --prefix clients/typescript)"
        )
    target = out / GENERATED_TYPESCRIPT
    target.parent.mkdir(parents=True, exist_ok=True)
    _run([str(OPENAPI_TYPESCRIPT), str(view), "--output", str(target)])


def generate_python(view: Path, out: Path) -> None:
    target = out / GENERATED_PYTHON
    # The post-hooks run `ruff` from PATH: the one beside this interpreter, as pinned.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    _run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(view),
            "--config",
            str(PYTHON_CONFIG),
            "--meta",
            "pdm",
            "--output-path",
            str(target),
            "--fail-on-warning",
        ],
        env={**os.environ, "PATH": path},
    )
    shutil.rmtree(target / ".ruff_cache", ignore_errors=True)


GENERATORS = {"typescript": generate_typescript, "python": generate_python}
OWNED = {"typescript": GENERATED_TYPESCRIPT, "python": GENERATED_PYTHON}


def generate(out: Path, languages: tuple[str, ...]) -> None:
    view = out / "openapi.client.json"
    view.write_text(json.dumps(client_view(json.loads(SPEC.read_text())), indent=2) + "\n")
    for language in languages:
        GENERATORS[language](view, out)
    view.unlink()


def _files(root: Path) -> dict[str, Path]:
    if root.is_file():
        return {".": root}
    if not root.exists():
        return {}
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not IGNORED_NAMES & set(relative.parts):
            found[relative.as_posix()] = path
    return found


def drift(committed: Path, fresh: Path) -> list[str]:
    """Unified diffs (and missing/extra files) between a committed and a fresh tree."""
    old, new = _files(committed), _files(fresh)
    problems: list[str] = []
    for name in sorted(old.keys() | new.keys()):
        label = (committed / name if name != "." else committed).relative_to(ROOT).as_posix()
        if name not in new:
            problems.append(f"{label}: not generated any more (delete it)")
        elif name not in old:
            problems.append(f"{label}: missing (newly generated)")
        else:
            before, after = old[name].read_text(), new[name].read_text()
            if before != after:
                diff = difflib.unified_diff(
                    before.splitlines(keepends=True),
                    after.splitlines(keepends=True),
                    f"{label} (committed)",
                    f"{label} (from openapi.json)",
                    n=1,
                )
                problems.append("".join(list(diff)[:60]))
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the clients are stale")
    parser.add_argument("--only", choices=LANGUAGES, action="append", help="one client only")
    args = parser.parse_args()
    languages = tuple(args.only or LANGUAGES)

    with tempfile.TemporaryDirectory(prefix="clients-") as temp:
        out = Path(temp)
        generate(out, languages)
        if args.check:
            problems = [
                problem
                for language in languages
                for problem in drift(CLIENTS / OWNED[language], out / OWNED[language])
            ]
            if problems:
                print("\n".join(problems), file=sys.stderr)
                print(
                    f"clients/ is stale against openapi.json ({len(problems)} files): "
                    "run `make clients` and commit the result",
                    file=sys.stderr,
                )
                return 1
            print(f"clients up to date ({', '.join(languages)})")
            return 0
        for language in languages:
            source, target = out / OWNED[language], CLIENTS / OWNED[language]
            if source.is_dir():
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(source, target)
            else:
                shutil.copyfile(source, target)
            print(f"generated {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
