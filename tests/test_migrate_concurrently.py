"""`python -m app migrate` from several replicas at once: one migrates, the others wait for
its advisory lock and find the database at head (PostgreSQL; SQLite is one process's file)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.migrations import head_revisions
from tests.conftest import REPO_ROOT, _pg_execute, _postgres_admin_url, _unavailable


async def _versions(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


def test_three_replicas_migrating_at_once_all_succeed_and_the_database_is_at_head() -> None:
    admin = _postgres_admin_url()
    if admin is None:
        _unavailable("TEST_POSTGRES_URL is not set")
        return
    name = f"tiktok_migrate_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(admin, f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        env = os.environ | {"DATABASE_URL": url, "APP_ENV": "development"}
        replicas = [
            subprocess.Popen(
                [sys.executable, "-m", "app", "migrate"],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in replicas]
        for process in replicas:
            for stream in (process.stdout, process.stderr):
                if stream:
                    stream.close()
        assert [code for code, _ in results] == [0, 0, 0], [err[-2000:] for _, err in results]
        assert asyncio.run(_versions(url)) == head_revisions()
    finally:
        asyncio.run(_pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
