"""The baselines every figure is divided by: what this stack does with nothing in the way.

- `GET /bare`: a FastAPI route returning a small JSON document.
- `POST /limit`: the Login Kit webhook's `TikTok-Signature` check (HMAC-SHA256 over
  `"{t}.{body}"`, constant-time compare, timestamp tolerance), then one
  `INSERT … ON CONFLICT DO NOTHING` of the raw body under its SHA-256, straight through
  asyncpg (PostgreSQL) or aiosqlite (SQLite), answered once committed. This is the floor
  cost of "verify, store once, answer" on this stack.
- `GET /read-limit`: the floor of B2's accounts list. The CRM's bearer token verified once
  and remembered (as the service does), then one SELECT of the first page of the
  company's accounts (the columns, order and page size the service reads) from the
  service's own PostgreSQL database straight through asyncpg, rendered as the same JSON
  document. This is what "authenticate, read one page, answer" costs on this stack with
  nothing in between; the service's list adds routing, parameter validation, its
  middlewares and SQLAlchemy.

Served by `uvicorn --factory bench.baseline:create_app` in its own process with one
worker, like the service. Configured by environment: BENCH_DATABASE (a PostgreSQL DSN or
a SQLite file path), BENCH_WEBHOOK_SECRET, and for the read limit BENCH_READ_DATABASE (the
service's PostgreSQL DSN) and BENCH_JWT_SECRET.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiosqlite
import asyncpg
import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic_core import to_json

TOLERANCE_SECONDS = 300
TABLE = "bench_inbox"
INSERT = (
    f"INSERT INTO {TABLE} (dedupe_key, body) VALUES ($1, $2) "  # noqa: S608 - a constant
    "ON CONFLICT (dedupe_key) DO NOTHING"
)

Store = Callable[[str, str], Awaitable[None]]
Read = Callable[[str], Awaitable[list[asyncpg.Record]]]
PAGE = 50  # the service's default page size
REMEMBERED_TOKENS = 4096  # the service's bound on verified tokens it remembers
LISTED = (
    "id, platform, name, status, external_id, username, display_name, avatar_url, "
    "granted_scopes, access_token_expires_at, refresh_token_expires_at, connected_at, "
    "disconnected_at, last_error_code, created_by, external_ref, metadata, created_at, "
    "updated_at"
)
READ_PAGE = (
    f"SELECT {LISTED} FROM integration_accounts WHERE company_id = $1 "  # noqa: S608
    f"ORDER BY created_at DESC, id DESC LIMIT {PAGE + 1}"
)


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


@asynccontextmanager
async def _reads(dsn: str) -> AsyncIterator[Read]:
    async def json_codec(connection: asyncpg.Connection) -> None:
        await connection.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )

    pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20, init=json_codec)
    try:

        async def read(company_id: str) -> list[asyncpg.Record]:
            rows: list[asyncpg.Record] = await pool.fetch(READ_PAGE, company_id)
            return rows

        yield read
    finally:
        await pool.close()


def _item(row: asyncpg.Record) -> dict[str, Any]:
    item = dict(row)
    item["granted_scopes"] = [scope for scope in (item["granted_scopes"] or "").split(",") if scope]
    return item


def create_app() -> FastAPI:
    database = os.environ["BENCH_DATABASE"]
    secret = os.environ["BENCH_WEBHOOK_SECRET"].encode()
    opened = _postgres(database) if database.startswith("postgresql://") else _sqlite(database)
    read_database = os.environ.get("BENCH_READ_DATABASE")
    jwt_secret = os.environ.get("BENCH_JWT_SECRET", "")
    # Verified bearer token -> (its company, its exp), bounded like the service's cache.
    companies: dict[str, tuple[str, float]] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.store = await stack.enter_async_context(opened)
            if read_database:
                app.state.read = await stack.enter_async_context(_reads(read_database))
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

    @app.get("/read-limit", response_model=None)
    async def read_limit(request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        known = companies.get(token)
        if known is None or known[1] <= time.time():  # its exp checked on every use
            try:
                claims = jwt.decode(token, jwt_secret, algorithms=["HS256"])
            except jwt.PyJWTError:
                return JSONResponse({"error": "invalid_token"}, status_code=401)
            if len(companies) >= REMEMBERED_TOKENS:
                companies.clear()
            known = companies[token] = (claims["company_id"], float(claims["exp"]))
        rows = await request.app.state.read(known[0])
        page = {"items": [_item(row) for row in rows[:PAGE]], "next_cursor": None}
        # pydantic-core's serializer (the service's too) writes the UUIDs and timestamps.
        return Response(to_json(page), media_type="application/json")

    return app
