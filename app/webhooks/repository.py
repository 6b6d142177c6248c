"""SQL for the webhook inbox (stored TikTok webhook events), and the cross-company account
lookup they need.

The hot paths are SQLAlchemy Core: the store is one `INSERT … ON CONFLICT DO NOTHING`, and a
processing pass claims a batch with `FOR UPDATE SKIP LOCKED` and settles it with one UPDATE.
Nothing here is company-scoped: a webhook names a TikTok user, not a company, and the same
TikTok user may be linked by several companies.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.accounts.models import IntegrationAccount, Platform
from app.core.sql import locked
from app.webhooks.models import InboxEntry, WebhookEventStatus, WebhookSource

SETTLED = (
    WebhookEventStatus.processed,
    WebhookEventStatus.ignored,
    WebhookEventStatus.rejected,
    WebhookEventStatus.failed,
)
_events = cast(Table, InboxEntry.__table__)


def _insert(executor: AsyncSession | AsyncConnection) -> Any:
    dialect = (
        executor.dialect if isinstance(executor, AsyncConnection) else executor.get_bind().dialect
    )
    return (postgresql.insert if dialect.name == "postgresql" else sqlite.insert)(_events)


async def insert_new(executor: AsyncSession | AsyncConnection, **values: Any) -> uuid.UUID | None:
    """Store an inbox row unless one with its dedupe key exists: its id, or None if a
    duplicate. `values` name its columns (`source` defaults to Login Kit's, `id` to a new
    one).

    One Core statement (no unit of work). `ON CONFLICT DO NOTHING` makes concurrent
    deliveries of one event store it once: on PostgreSQL the second insert waits for the
    first to commit, then does nothing.
    """
    statement = (
        _insert(executor)
        .values(**{"id": uuid.uuid4(), "attempts": 0, "source": WebhookSource.tiktok, **values})
        .on_conflict_do_nothing(index_elements=[_events.c.dedupe_key])
        .returning(_events.c.id)
    )
    inserted: uuid.UUID | None = (await executor.execute(statement)).scalar_one_or_none()
    return inserted


async def claim(
    session: AsyncSession,
    limit: int,
    *,
    sources: Sequence[WebhookSource],
    retries: bool = True,
    before: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> list[InboxEntry]:
    """Up to `limit` inbox rows of these sources waiting for processing that no other
    processor holds, oldest first, locked until the transaction ends (each loaded as its
    source's class).

    `retries=False` leaves out events that already failed once (the sweeper retries them at
    its own pace). PostgreSQL: row locks with `SKIP LOCKED` (another processor's rows are left
    out) and the status check (already processed → not claimed). SQLite: the `BEGIN
    IMMEDIATE` write transaction serializes processors, so the status check alone suffices.
    """
    query = select(InboxEntry).where(
        InboxEntry.status == WebhookEventStatus.received, InboxEntry.source.in_(sources)
    )
    if not retries:
        query = query.where(InboxEntry.attempts == 0)
    if before is not None:
        query = query.where(InboxEntry.received_at < before)
    if event_id is not None:
        query = query.where(InboxEntry.id == event_id)
    query = query.order_by(InboxEntry.received_at).limit(limit)
    return list((await session.scalars(locked(query, skip_locked=True))).all())


async def mark_processed(session: AsyncSession, ids: Sequence[uuid.UUID], now: datetime) -> None:
    """Settle claimed events, in the transaction that applied their effects."""
    if not ids:
        return
    await session.execute(
        update(_events)
        .where(_events.c.id.in_(ids))
        .values(
            status=WebhookEventStatus.processed,
            processed_at=now,
            attempts=_events.c.attempts + 1,
        )
    )


async def count_failure(
    session: AsyncSession, event_id: uuid.UUID, reason: str, max_attempts: int
) -> int:
    """One more failed attempt on a claimed event; `failed` at the last one. The attempts."""
    attempts = _events.c.attempts + 1
    statement = (
        update(_events)
        .where(_events.c.id == event_id)
        .values(
            attempts=attempts,
            reason=reason,
            status=case(
                (attempts >= max_attempts, WebhookEventStatus.failed.value),
                else_=WebhookEventStatus.received.value,
            ),
        )
        .returning(_events.c.attempts)
    )
    return int((await session.execute(statement)).scalar_one())


async def delete_settled_before(session: AsyncSession, before: datetime) -> int:
    """Forget settled inbox rows (every source) received before `before`."""
    statement = delete(_events).where(_events.c.status.in_(SETTLED), _events.c.received_at < before)
    result = cast("CursorResult[Any]", await session.execute(statement))
    return result.rowcount


async def tiktok_accounts(
    session: AsyncSession, open_id: str, *, for_update: bool = False
) -> list[IntegrationAccount]:
    """Every Login Kit account (any company) linked to this TikTok user, in id order so
    concurrent lockers take the row locks in the same order."""
    query = (
        select(IntegrationAccount)
        .where(
            IntegrationAccount.platform == Platform.tiktok,
            IntegrationAccount.external_id == open_id,
        )
        .order_by(IntegrationAccount.id)
    )
    if for_update:
        query = locked(query)
    return list((await session.scalars(query)).all())
