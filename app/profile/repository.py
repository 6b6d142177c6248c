"""SQL for stats snapshots and the background sync's account leases."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.profile.models import StatsSnapshot


async def latest_stats(session: AsyncSession, account_id: uuid.UUID) -> StatsSnapshot | None:
    query = (
        select(StatsSnapshot)
        .where(StatsSnapshot.account_id == account_id)
        .order_by(StatsSnapshot.captured_at.desc(), StatsSnapshot.id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).one_or_none()


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


async def claim_due_for_sync(
    session: AsyncSession, synced_before: datetime, now: datetime, lease_until: datetime, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """Lease connected accounts whose profile is older than `synced_before`.

    `SKIP LOCKED` lets replicas claim disjoint batches; the lease keeps an account claimed
    after this short transaction commits, while its sync runs.
    """
    query = (
        select(IntegrationAccount)
        .where(
            IntegrationAccount.platform == Platform.tiktok,
            IntegrationAccount.status == AccountStatus.connected,
            or_(
                IntegrationAccount.profile_synced_at.is_(None),
                IntegrationAccount.profile_synced_at < synced_before,
            ),
            or_(
                IntegrationAccount.sync_lease_until.is_(None),
                IntegrationAccount.sync_lease_until < now,
            ),
        )
        .order_by(IntegrationAccount.profile_synced_at.asc().nulls_first())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    accounts = list((await session.scalars(query)).all())
    if accounts:
        await session.execute(
            update(IntegrationAccount)
            .where(IntegrationAccount.id.in_([account.id for account in accounts]))
            .values(sync_lease_until=lease_until)
        )
    return [(account.id, account.company_id) for account in accounts]
