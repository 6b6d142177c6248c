"""The serving process takes its startup heap out of the garbage collector's scans."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import gc
from app.main import serve_app
app = serve_app()
print(gc.get_freeze_count(), type(app).__name__)
"""


def test_the_app_factory_freezes_the_startup_heap(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'heap.db'}",
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    frozen, kind = result.stdout.split()
    assert kind == "FastAPI"
    # Modules, routes and schemas: far more than any request allocates.
    assert int(frozen) > 50_000


def test_building_an_app_in_process_freezes_nothing() -> None:
    """Tests build hundreds of apps in one process: create_app itself must not freeze."""
    import gc

    from app.main import create_app
    from tests.conftest import make_settings

    before = gc.get_freeze_count()
    create_app(make_settings())
    assert gc.get_freeze_count() == before
