"""Throwaway databases, and the few reads (and one write) the bench makes outside HTTP.

Everything the service exposes over HTTP is driven over HTTP. The database is touched only
to count what was stored (B1), to make seeded tokens due (B3) and to count refreshed
accounts (B3). The table and column names live here, in one place: a redesign that
renames them changes these constants and nothing else.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg

from bench.procs import python_path

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
# Where the service stores each signed Login Kit webhook before answering 200.
WEBHOOK_EVENTS_TABLE = "tiktok_webhook_events"
ACCOUNTS_TABLE = "integration_accounts"
# The baseline "limit" route's own table (see bench/baseline.py).
LIMIT_TABLE = "bench_inbox"


def sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


async def create_database(admin_dsn: str = ADMIN_DSN) -> str:
    """A new empty database; its asyncpg DSN."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return admin_dsn.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(dsn: str, admin_dsn: str = ADMIN_DSN) -> None:
    name = dsn.rsplit("/", 1)[1]
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def migrate(database_url: str, workdir: Path) -> None:
    """`python -m app migrate`, as an operator would run it."""
    subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        cwd=workdir,
        env={"PYTHONPATH": python_path(), "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
        check=True,
        capture_output=True,
    )


async def count_rows(database: str, table: str) -> int:
    """Rows in `table`; `database` is a PostgreSQL DSN or a SQLite file path."""
    query = f"SELECT count(*) FROM {table}"  # noqa: S608 - table names are our constants
    if database.startswith("postgresql://"):
        connection = await asyncpg.connect(database)
        try:
            return int(await connection.fetchval(query))
        finally:
            await connection.close()
    with sqlite3.connect(database) as connection:
        return int(connection.execute(query).fetchone()[0])


async def make_tokens_due(dsn: str) -> int:
    """B3: every connected account's access token expires now; how many were changed."""
    connection = await asyncpg.connect(dsn)
    try:
        status = await connection.execute(
            f"UPDATE {ACCOUNTS_TABLE} SET access_token_expires_at = now() "  # noqa: S608
            "WHERE status = 'connected' AND platform = 'tiktok'"
        )
    finally:
        await connection.close()
    return int(status.split()[-1])


_PROGRESS = (
    "SELECT count(*) FILTER "  # noqa: S608 - the table name is our constant
    "(WHERE access_token_expires_at > now() + make_interval(secs => $1)) AS refreshed, "
    "count(*) FILTER (WHERE status = 'reauth_required') AS reauth, "
    "coalesce(sum(token_version), 0) AS versions "
    f"FROM {ACCOUNTS_TABLE} WHERE platform = 'tiktok'"
)


async def refresh_progress(dsn: str, ahead_seconds: int) -> dict[str, int]:
    """B3: accounts no longer due (refreshed), accounts flagged for reconnection, and the
    sum of token versions (each stored rotation adds one)."""
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(_PROGRESS, float(ahead_seconds))
    finally:
        await connection.close()
    assert row is not None
    return dict(row)
