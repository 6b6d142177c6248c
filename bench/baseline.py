"""The baselines every figure is divided by: what this stack does with nothing in the way.

- `GET /bare`: a FastAPI route returning a small JSON document.
- `POST /limit`: the Login Kit webhook's `TikTok-Signature` check (HMAC-SHA256 over
  `"{t}.{body}"`, constant-time compare, timestamp tolerance), then one
  `INSERT … ON CONFLICT DO NOTHING` of the raw body under its SHA-256, straight through
  asyncpg (PostgreSQL) or aiosqlite (SQLite), answered once committed. This is the floor
  cost of "verify, store once, answer" on this stack.

Served by `uvicorn --factory bench.baseline:create_app` in its own process with one
worker, like the service. Configured by environment: BENCH_DATABASE (a PostgreSQL DSN or
a SQLite file path) and BENCH_WEBHOOK_SECRET.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiosqlite
import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TOLERANCE_SECONDS = 300
TABLE = "bench_inbox"
INSERT = (
    f"INSERT INTO {TABLE} (dedupe_key, body) VALUES ($1, $2) "  # noqa: S608 - a constant
    "ON CONFLICT (dedupe_key) DO NOTHING"
)

Store = Callable[[str, str], Awaitable[None]]


def verify(secret: bytes, header: str, body: bytes, now: float) -> bool:
    """`t=<ts>,s=<hex>` as TikTok signs it (the service's check, without its error detail)."""
    parts = dict(part.strip().partition("=")[::2] for part in header.split(","))
    stamp, given = parts.get("t", ""), parts.get("s", "")
    if not (stamp.isdigit() and given):
        return False
    expected = hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.lower().encode()) and (
        abs(now - int(stamp)) <= TOLERANCE_SECONDS
    )


@asynccontextmanager
async def _postgres(dsn: str) -> AsyncIterator[Store]:
    # The service's pool is 10 + 10 overflow; the same bound here.
    pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20)
    try:
        await pool.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, "
            "dedupe_key varchar(64) NOT NULL UNIQUE, body text NOT NULL, "
            "received_at timestamptz NOT NULL DEFAULT now())"
        )

        async def store(key: str, body: str) -> None:
            await pool.execute(INSERT, key, body)

        yield store
    finally:
        await pool.close()


@asynccontextmanager
async def _sqlite(path: str) -> AsyncIterator[Store]:
    # Autocommit: each INSERT is its own transaction, committed before the answer. WAL and
    # a busy timeout as the service configures SQLite.
    async with aiosqlite.connect(path, isolation_level=None) as connection:
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA busy_timeout=30000")
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, "
            "dedupe_key VARCHAR(64) NOT NULL UNIQUE, body TEXT NOT NULL, "
            "received_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )
        insert = INSERT.replace("$1", "?").replace("$2", "?")

        async def store(key: str, body: str) -> None:
            await connection.execute(insert, (key, body))

        yield store


def create_app() -> FastAPI:
    database = os.environ["BENCH_DATABASE"]
    secret = os.environ["BENCH_WEBHOOK_SECRET"].encode()
    opened = _postgres(database) if database.startswith("postgresql://") else _sqlite(database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with opened as store:
            app.state.store = store
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/bare")
    async def bare() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/limit", response_model=None)
    async def limit(request: Request) -> dict[str, str] | JSONResponse:
        body = await request.body()
        if not verify(secret, request.headers.get("tiktok-signature", ""), body, time.time()):
            return JSONResponse({"error": "webhook_unauthorized"}, status_code=401)
        await request.app.state.store(hashlib.sha256(body).hexdigest(), body.decode())
        return {"status": "accepted"}

    return app
