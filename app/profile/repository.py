"""SQL for stats snapshots and the background sync's queue of accounts (`SYNC`, leased
through `sync_lease_until`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.core.queue import Claim, WorkQueue
from app.profile.models import StatsSnapshot

_LATEST_STATS = (  # built once, like `accounts.repository.get`: it runs on every profile read
    select(StatsSnapshot)
    .where(StatsSnapshot.account_id == bindparam("account_id"))
    .order_by(StatsSnapshot.captured_at.desc(), StatsSnapshot.id.desc())
    .limit(1)
)


async def latest_stats(session: AsyncSession, account_id: uuid.UUID) -> StatsSnapshot | None:
    return (await session.scalars(_LATEST_STATS, {"account_id": account_id})).one_or_none()


async def stats_since(
    session: AsyncSession,
    company_id: str,
    account_id: uuid.UUID,
    since: datetime | None,
    limit: int,
) -> list[StatsSnapshot]:
    query = select(StatsSnapshot).where(
        StatsSnapshot.company_id == company_id, StatsSnapshot.account_id == account_id
    )
    if since is not None:
        query = query.where(StatsSnapshot.captured_at >= since)
    # The newest `limit` points, returned oldest first for charts.
    newest = query.order_by(StatsSnapshot.captured_at.desc()).limit(limit)
    rows = list((await session.scalars(newest)).all())
    return rows[::-1]


SYNC = WorkQueue(
    table=cast(Table, IntegrationAccount.__table__),
    # No attempt counter: the lease a claim sets is what fences its settle.
    lease="sync_lease_until",
    where=and_(
        IntegrationAccount.platform == Platform.tiktok,
        IntegrationAccount.status == AccountStatus.connected,
    ),
    order_by=(IntegrationAccount.profile_synced_at.asc().nulls_first(),),
)


async def claim_due_for_sync(
    session: AsyncSession, synced_before: datetime, now: datetime, lease_until: datetime, limit: int
) -> list[Claim]:
    """Lease connected Login Kit accounts whose profile is older than `synced_before`, with
    their `company_id`.

    `SKIP LOCKED` lets replicas claim disjoint batches; the lease keeps an account claimed
    after this short transaction commits, while its sync runs.
    """
    synced_at = IntegrationAccount.profile_synced_at
    return await SYNC.claim(
        session,
        now=now,
        limit=limit,
        lease_until=lease_until,
        where=or_(synced_at.is_(None), synced_at < synced_before),
        columns=("company_id",),
    )


async def release_synced(session: AsyncSession, claim: Claim) -> bool:
    """End a sync's lease, in the transaction that stores what it read; False when the
    lease lapsed and another sync claimed the account since (it stores its own)."""
    return bool(await SYNC.done(session, [claim]))
