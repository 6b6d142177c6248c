"""Which code of the service is measured: the work tree, or a snapshot of a git ref.

A baseline is only a baseline if it says what it measured: the results record the commit,
and whether the work tree had uncommitted changes.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from bench.procs import REPO


def _git(*args: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed git arguments
        ["git", "-C", str(REPO), *args],  # noqa: S607 - git from PATH, like a developer
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def describe(ref: str | None) -> str:
    if ref:
        return f"git {ref} ({_git('rev-parse', '--short', ref)})"
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench")
    head = _git("rev-parse", "--short", "HEAD")
    return f"work tree at {head}" + (" with uncommitted changes" if dirty else "")


def snapshot(ref: str, directory: Path) -> Path:
    """The tree of `ref` in `directory`, without bench/ (the bench is always this one)."""
    archive = subprocess.run(  # noqa: S603 - fixed git arguments
        ["git", "-C", str(REPO), "archive", "--format=tar", ref],  # noqa: S607
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(directory, filter="data")
    shutil.rmtree(directory / "bench", ignore_errors=True)
    return directory
