"""SQL for the webhook inbox (stored TikTok webhook events), and the cross-company account
lookup they need.

The hot paths are SQLAlchemy Core: the store is one `INSERT … ON CONFLICT DO NOTHING`, and a
processing pass claims a batch through the durable-work primitive (`INBOX`, app.core.queue)
and settles it with one UPDATE.
Nothing here is company-scoped: a webhook names a TikTok user, not a company, and the same
TikTok user may be linked by several companies.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, and_, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.accounts.models import IntegrationAccount, Platform
from app.core.queue import Claim, Fate, Statuses, WorkQueue
from app.core.retry import backoff_seconds
from app.core.sql import dialect_name, locked
from app.webhooks.models import InboxEntry, WebhookEventStatus, WebhookSource

SETTLED = (
    WebhookEventStatus.processed,
    WebhookEventStatus.ignored,
    WebhookEventStatus.rejected,
    WebhookEventStatus.failed,
)
_events = cast(Table, InboxEntry.__table__)


def _store_statements(*returning: Any) -> dict[str, Any]:
    """The store, built once per dialect: `INSERT … ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING …`; a request only binds its values (one compiled form in SQLAlchemy's cache
    per set of columns)."""
    return {
        name: dialect.insert(_events)
        .on_conflict_do_nothing(index_elements=[_events.c.dedupe_key])
        .returning(*returning)
        for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
    }


_INSERTS = _store_statements(_events.c.id)
# The grouped store: many rows, one statement (SQLAlchemy's "insertmanyvalues": multi-row
# VALUES on both dialects); the dedupe key says which rows were new.
_BATCH_INSERTS = _store_statements(_events.c.id, _events.c.dedupe_key)
# Columns a row may leave out (a rejected delivery has no event); the grouped statement
# binds one set of columns for all its rows, so the absent ones are bound as NULL.
_OPTIONAL_COLUMNS = ("event", "user_openid", "client_key", "create_time", "reason")


def _new_row(values: Mapping[str, Any]) -> dict[str, Any]:
    """An inbox row's values with the defaults of a new one (`source` Login Kit's, a new
    `id`, no attempt yet) under those given."""
    return {"id": uuid.uuid4(), "attempts": 0, "source": WebhookSource.tiktok, **values}


async def insert_new(executor: AsyncSession | AsyncConnection, **values: Any) -> uuid.UUID | None:
    """Store an inbox row unless one with its dedupe key exists: its id, or None if a
    duplicate. `values` name its columns (`source` defaults to Login Kit's, `id` to a new
    one).

    One Core statement (no unit of work). `ON CONFLICT DO NOTHING` makes concurrent
    deliveries of one event store it once: on PostgreSQL the second insert waits for the
    first to commit, then does nothing.
    """
    result = await executor.execute(_INSERTS[dialect_name(executor)], _new_row(values))
    inserted: uuid.UUID | None = result.scalar_one_or_none()
    return inserted


async def insert_batch(
    connection: AsyncConnection, rows: Sequence[dict[str, Any]]
) -> list[uuid.UUID | None]:
    """Store Login Kit inbox rows in one statement: for each row, its id if it was stored,
    or None when its dedupe key already existed (before, or earlier in `rows`)."""
    values: list[dict[str, Any]] = []
    first: dict[str, int] = {}  # dedupe key -> index of the row that may store it
    for index, row in enumerate(rows):
        first.setdefault(row["dedupe_key"], index)
        if first[row["dedupe_key"]] == index:
            values.append({column: None for column in _OPTIONAL_COLUMNS} | _new_row(row))
    result = await connection.execute(_BATCH_INSERTS[dialect_name(connection)], values)
    stored = {key: event_id for event_id, key in result.all()}
    return [
        stored.get(row["dedupe_key"]) if first[row["dedupe_key"]] == index else None
        for index, row in enumerate(rows)
    ]


# Failed attempts before an inbox row is `failed` for good.
MAX_ATTEMPTS = 5
# After a failed attempt a row waits `backoff_seconds(attempt, …)` (full jitter, capped):
# a handler that fails for a while (a database hiccup, a bug being fixed) does not burn
# every attempt in one sweep.
RETRY_BASE_SECONDS = 5.0
RETRY_CAP_SECONDS = 600.0

# The inbox as durable work: rows wait `received` until `next_attempt_at` (their received
# time, later their backoff), are claimed under row locks for the transaction that applies
# them (no lease: the effects and the settle commit together), and end `processed` or,
# after MAX_ATTEMPTS failures, `failed`.
INBOX = WorkQueue(
    table=_events,
    statuses=Statuses(
        ready=WebhookEventStatus.received,
        done=WebhookEventStatus.processed,
        dead=WebhookEventStatus.failed,
    ),
    attempts="attempts",
    due="next_attempt_at",
    order_by=(_events.c.received_at,),
    max_attempts=MAX_ATTEMPTS,
)
# What a handler reads of a claimed row (`user_openid`: a pass finds every linked account
# of its batch with one query).
CLAIMED_COLUMNS = ("source", "body", "client_key", "user_openid")


async def claim(
    session: AsyncSession,
    limit: int,
    *,
    sources: Sequence[WebhookSource],
    retries: bool = True,
    before: datetime | None = None,
    event_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> list[Claim]:
    """Up to `limit` inbox rows of these sources due for processing at `now` (default:
    the clock) that no other processor holds, oldest first, locked until the transaction
    ends (`INBOX.claim`: `SKIP LOCKED` on PostgreSQL; SQLite's write transaction
    serializes processors).

    `retries=False` leaves out rows that already failed once (the sweeper retries them
    once their backoff is over)."""
    conditions: list[ColumnElement[bool]] = [
        _events.c.source.in_([str(source) for source in sources])
    ]
    if not retries:
        conditions.append(_events.c.attempts == 0)
    if before is not None:
        conditions.append(_events.c.received_at < before)
    if event_id is not None:
        conditions.append(_events.c.id == event_id)
    return await INBOX.claim(
        session, limit=limit, now=now, where=and_(*conditions), columns=CLAIMED_COLUMNS
    )


async def mark_processed(session: AsyncSession, claims: Sequence[Claim], now: datetime) -> None:
    """Settle applied rows, in the transaction that applied their effects."""
    await INBOX.done(session, claims, values={"processed_at": now})


async def count_failure(session: AsyncSession, claim: Claim, reason: str, now: datetime) -> Fate:
    """One more failed attempt on a claimed row: due again after its backoff from `now`,
    or `failed` (Fate.dead) at the last attempt."""
    delay = backoff_seconds(claim.attempt, RETRY_BASE_SECONDS, RETRY_CAP_SECONDS)
    at = now + timedelta(seconds=delay)
    return await INBOX.retry(session, claim, at=at, values={"reason": reason})


async def delete_settled_before(session: AsyncSession, before: datetime) -> int:
    """Forget settled inbox rows (every source) received before `before`."""
    statement = delete(_events).where(_events.c.status.in_(SETTLED), _events.c.received_at < before)
    result = cast("CursorResult[Any]", await session.execute(statement))
    return result.rowcount


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    """A Login Kit account linked to a TikTok user, as an event's log entry names it."""

    id: uuid.UUID
    company_id: str


async def linked_accounts(
    session: AsyncSession, open_ids: Collection[str]
) -> dict[str, list[LinkedAccount]]:
    """Every Login Kit account (any company) of each of these TikTok users, in id order: one
    query for a whole batch of events (Core rows, no ORM instances)."""
    if not open_ids:
        return {}
    account = cast(Table, IntegrationAccount.__table__)
    query = (
        select(account.c.external_id, account.c.id, account.c.company_id)
        .where(account.c.platform == Platform.tiktok, account.c.external_id.in_(open_ids))
        .order_by(account.c.id)
    )
    linked: dict[str, list[LinkedAccount]] = {}
    for open_id, account_id, company_id in (await session.execute(query)).all():
        linked.setdefault(open_id, []).append(LinkedAccount(account_id, company_id))
    return linked


async def lock_tiktok_accounts(session: AsyncSession, open_id: str) -> list[IntegrationAccount]:
    """Every Login Kit account (any company) linked to this TikTok user, locked, in id order
    so concurrent lockers take the row locks in the same order."""
    query = (
        select(IntegrationAccount)
        .where(
            IntegrationAccount.platform == Platform.tiktok,
            IntegrationAccount.external_id == open_id,
        )
        .order_by(IntegrationAccount.id)
    )
    return list((await session.scalars(locked(query))).all())
