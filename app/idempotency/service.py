"""Idempotent POSTs: the first answer to a key is the answer to every retry with that key.

A client that did not get an answer (a timeout, a dropped connection) sends the request
again with the same `Idempotency-Key`, and must not create a second account or start a
second connect. `once` runs the work for the first request of a key, in the request's own
transaction:

1. claim the key: `INSERT … ON CONFLICT DO NOTHING` of (company, key, fingerprint);
2. run the work;
3. store its answer (status and the exact JSON body) in the same row.

All three commit together, or none does: a failed request leaves no key behind, so its
retry runs again. A second request with the key finds the row and is answered from it
(`Idempotent-Replayed: true`). Two requests with one key at the same moment: the second
**waits** for the first — on PostgreSQL its INSERT waits on the first's uncommitted row of
the unique index, on SQLite its write transaction (`BEGIN IMMEDIATE`) waits for the
first's — and then answers the first's result. Nothing in process memory is involved, so
replicas behave the same.

A key belongs to a company and lives `KEY_TTL` (24 h), or less when the operation says so:
a key must not outlive what its stored answer hands out (a connect's answer is a link valid
`OAUTH_STATE_TTL_SECONDS`, so its key lives that long: after that a retry starts a new
attempt instead of replaying a dead link). The same key with another body (or for another
operation or account) is `422 idempotency_key_reused`. Expired rows are deleted as new keys
are claimed, a few per claim, so the table holds about a day of keys without a job of its
own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, TypeVar

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core.db import utcnow
from app.core.errors import AppError
from app.core.sql import dialect_insert
from app.idempotency.models import IdempotencyKey

KEY_TTL = timedelta(hours=24)
# Expired rows deleted by each claim (bounded, so a claim's cost does not grow).
PURGE_BATCH = 20
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x21-\x7e]+$"

Model = TypeVar("Model", bound=BaseModel)

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=KEY_PATTERN,
        description="Makes a retry safe: a request with a key used in the last 24 h (by the "
        "same company, with the same body) is answered with the first answer instead of "
        "being run again (`Idempotent-Replayed: true`). A connect's key lasts as long as "
        "the link it answers (OAUTH_STATE_TTL_SECONDS, 10 minutes by default). Visible "
        "ASCII, up to 255 characters; a UUID is a good key.",
    ),
]


class IdempotencyKeyReused(AppError):
    status_code = 422
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used for a different request; use a new key."


def fingerprint(operation: str, body: BaseModel | None) -> str:
    """What makes two requests "the same": the operation (with its path ids) and the body
    as validated (so key order and spacing do not matter)."""
    canonical = json.dumps(
        body.model_dump(mode="json") if body is not None else None,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{operation}\n{canonical}".encode()).hexdigest()


async def _purge_expired(session: AsyncSession, company_id: str, key: str, now: datetime) -> None:
    table = IdempotencyKey
    await session.execute(
        delete(table).where(
            table.company_id == company_id, table.key == key, table.expires_at <= now
        )
    )
    # Other companies' expired keys too, a few at a time; rows another claim is deleting are
    # skipped, not waited for (PostgreSQL; SQLite's one writer needs no lock).
    expired = (
        select(table.id)
        .where(table.expires_at <= now)
        .order_by(table.expires_at)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    await session.execute(
        delete(table).where(table.id.in_(expired)).execution_options(synchronize_session=False)
    )


async def _claim(
    session: AsyncSession, company_id: str, key: str, digest: str, ttl: timedelta
) -> IdempotencyKey | None:
    """Our claim on the key (None), or the row of the request that had it first."""
    now = utcnow()
    await _purge_expired(session, company_id, key, now)
    insert = dialect_insert(session)(IdempotencyKey).values(
        company_id=company_id,
        key=key,
        fingerprint=digest,
        created_at=now,
        expires_at=now + ttl,
    )
    claimed = await session.execute(
        insert.on_conflict_do_nothing(index_elements=["company_id", "key"]).returning(
            IdempotencyKey.id
        )
    )
    if claimed.first() is not None:
        return None
    first = await session.scalars(
        select(IdempotencyKey)
        .where(IdempotencyKey.company_id == company_id, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    )
    return first.one()


def _replay(row: IdempotencyKey, digest: str) -> Response:
    if row.fingerprint != digest:
        raise IdempotencyKeyReused
    # Stored only together with the answer, so a visible row always has one.
    status_code, body = row.status_code, row.response_body
    assert status_code is not None
    assert body is not None
    return Response(
        body.encode(),
        status_code=status_code,
        media_type="application/json",
        headers={REPLAYED_HEADER: "true"},
    )


async def once(
    session: AsyncSession,
    company_id: str,
    key: str | None,
    *,
    operation: str,
    body: BaseModel | None,
    status_code: int,
    work: Callable[[], Awaitable[Model]],
    ttl: timedelta = KEY_TTL,
) -> Model | Response:
    """`work()` for the first request of `key`, else the first request's answer.

    `operation` names what is done (with its path ids: the same key on another account is
    another request). The key lives `ttl`, at most `KEY_TTL`: no longer than the answer
    stays usable. Without a key, `work()` simply runs.
    """
    if key is None:
        return await work()
    digest = fingerprint(operation, body)
    first = await _claim(session, company_id, key, digest, min(ttl, KEY_TTL))
    if first is not None:
        return _replay(first, digest)
    result = await work()
    # The exact bytes FastAPI sends for `result`, so a replay is the same answer.
    rendered = JSONResponse(result.model_dump(mode="json", by_alias=True)).body
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.company_id == company_id, IdempotencyKey.key == key)
        .values(status_code=status_code, response_body=bytes(rendered).decode())
        .execution_options(synchronize_session=False)
    )
    return result
