"""SQL for stored TikTok webhook events, and the cross-company account lookup they need.

Nothing here is company-scoped: a webhook names a TikTok user, not a company, and the same
TikTok user may be linked by several companies.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import IntegrationAccount, Platform
from app.core.sql import dialect_insert, locked
from app.webhooks.models import TikTokWebhookEvent, WebhookEventStatus

SETTLED = (WebhookEventStatus.processed, WebhookEventStatus.rejected, WebhookEventStatus.failed)


async def insert_new(session: AsyncSession, **values: Any) -> uuid.UUID | None:
    """Store an event unless one with its dedupe key exists: its id, or None if a duplicate.

    `ON CONFLICT DO NOTHING` makes concurrent deliveries of one event store it once: on
    PostgreSQL the second insert waits for the first to commit, then does nothing.
    """
    statement = (
        dialect_insert(session)(TikTokWebhookEvent)
        .values(id=uuid.uuid4(), **values)
        .on_conflict_do_nothing(index_elements=[TikTokWebhookEvent.dedupe_key])
        .returning(TikTokWebhookEvent.id)
    )
    inserted: uuid.UUID | None = (await session.execute(statement)).scalar_one_or_none()
    return inserted


async def claim(session: AsyncSession, event_id: uuid.UUID) -> TikTokWebhookEvent | None:
    """The event if it still waits for processing and nobody else is processing it.

    PostgreSQL: a row lock, `SKIP LOCKED` (another processor holds it → None) and the status
    check (already processed → None). SQLite: the `BEGIN IMMEDIATE` write transaction
    serializes processors, so the status check alone suffices.
    """
    query = locked(
        select(TikTokWebhookEvent).where(
            TikTokWebhookEvent.id == event_id,
            TikTokWebhookEvent.status == WebhookEventStatus.received,
        ),
        skip_locked=True,
    )
    return (await session.scalars(query)).one_or_none()


async def lock_received(session: AsyncSession, event_id: uuid.UUID) -> TikTokWebhookEvent | None:
    """The event under a lock (waiting for a processor to finish), if still `received`."""
    query = locked(
        select(TikTokWebhookEvent).where(
            TikTokWebhookEvent.id == event_id,
            TikTokWebhookEvent.status == WebhookEventStatus.received,
        )
    )
    return (await session.scalars(query)).one_or_none()


async def received_before(session: AsyncSession, before: datetime, limit: int) -> list[uuid.UUID]:
    """Events still waiting since before `before`, oldest first (for the sweeper)."""
    query = (
        select(TikTokWebhookEvent.id)
        .where(
            TikTokWebhookEvent.status == WebhookEventStatus.received,
            TikTokWebhookEvent.received_at < before,
        )
        .order_by(TikTokWebhookEvent.received_at)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def delete_settled_before(session: AsyncSession, before: datetime) -> int:
    statement = delete(TikTokWebhookEvent).where(
        TikTokWebhookEvent.status.in_(SETTLED), TikTokWebhookEvent.received_at < before
    )
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
