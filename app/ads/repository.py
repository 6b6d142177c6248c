"""SQL for ads accounts: their advertisers, backfill jobs and subscription checks.

CRM-facing reads are scoped to one company; the workers' claims are not, and say so. Claims
lock with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas take disjoint rows, and set a
lease that keeps the row theirs after the short claiming transaction commits. SQLite has no
row locks: its `BEGIN IMMEDIATE` write transaction serializes claimers instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.ads.models import AdvertiserSubscriptionCheck, BackfillJob, BackfillStatus
from app.core.sql import dialect_insert, locked
from app.leads.models import TikTokAdvertiser


async def advertisers_of_account(
    session: AsyncSession, account_id: uuid.UUID
) -> list[TikTokAdvertiser]:
    query = (
        select(TikTokAdvertiser)
        .where(TikTokAdvertiser.account_id == account_id)
        .order_by(TikTokAdvertiser.advertiser_id)
    )
    return list((await session.scalars(query)).all())


async def advertiser_links(
    session: AsyncSession, advertiser_ids: Sequence[str]
) -> list[TikTokAdvertiser]:
    """Internal (every company): the rows of these advertisers, whoever connected them."""
    query = select(TikTokAdvertiser).where(TikTokAdvertiser.advertiser_id.in_(advertiser_ids))
    return list((await session.scalars(query)).all())


async def forget_advertisers(session: AsyncSession, account_id: uuid.UUID) -> int:
    """Delete the account's advertiser rows (their checks go with them); how many."""
    result = await session.execute(
        delete(TikTokAdvertiser)
        .where(TikTokAdvertiser.account_id == account_id)
        .returning(TikTokAdvertiser.id)
    )
    return len(result.all())


async def mark_checked(session: AsyncSession, advertiser_ids: Sequence[str], now: datetime) -> None:
    """Record that these advertisers' subscriptions were just seen alive."""
    if not advertiser_ids:
        return
    rows = [
        {"advertiser_id": advertiser_id, "checked_at": now, "lease_until": None}
        for advertiser_id in advertiser_ids
    ]
    insert = dialect_insert(session)(AdvertiserSubscriptionCheck).values(rows)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[AdvertiserSubscriptionCheck.advertiser_id],
            set_={"checked_at": now, "lease_until": None, "last_error": None},
        )
    )


@dataclass(frozen=True, slots=True)
class ClaimedCheck:
    advertiser_id: str
    account_id: uuid.UUID
    company_id: str
    subscription_id: str | None


async def claim_subscription_check(
    session: AsyncSession, checked_before: datetime, now: datetime, lease_until: datetime
) -> ClaimedCheck | None:
    """Internal: one advertiser of a connected ads account whose subscription was not
    checked since `checked_before`, leased to the caller until `lease_until`."""
    check = AdvertiserSubscriptionCheck
    query = (
        select(TikTokAdvertiser, check.checked_at)
        .join(IntegrationAccount, IntegrationAccount.id == TikTokAdvertiser.account_id)
        .outerjoin(check, check.advertiser_id == TikTokAdvertiser.advertiser_id)
        .where(
            IntegrationAccount.platform == Platform.tiktok_ads,
            IntegrationAccount.status == AccountStatus.connected,
            or_(check.checked_at.is_(None), check.checked_at < checked_before),
            or_(check.lease_until.is_(None), check.lease_until < now),
        )
        .order_by(check.checked_at.asc().nulls_first(), TikTokAdvertiser.advertiser_id)
        .limit(1)
        .with_for_update(of=TikTokAdvertiser, skip_locked=True)
    )
    found = (await session.execute(query)).first()
    if found is None:
        return None
    advertiser: TikTokAdvertiser = found[0]
    insert = dialect_insert(session)(check).values(
        advertiser_id=advertiser.advertiser_id, checked_at=None, lease_until=lease_until
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[check.advertiser_id], set_={"lease_until": lease_until}
        )
    )
    return ClaimedCheck(
        advertiser_id=advertiser.advertiser_id,
        account_id=advertiser.account_id,
        company_id=advertiser.company_id,
        subscription_id=advertiser.subscription_id,
    )


async def settle_check(
    session: AsyncSession,
    advertiser_id: str,
    *,
    checked_at: datetime | None,
    retry_at: datetime | None,
    error: str | None,
) -> None:
    """End a check: seen alive at `checked_at`, or failed and due again at `retry_at`."""
    values: dict[str, object] = {"lease_until": retry_at, "last_error": error}
    if checked_at is not None:
        values["checked_at"] = checked_at
    await session.execute(
        update(AdvertiserSubscriptionCheck)
        .where(AdvertiserSubscriptionCheck.advertiser_id == advertiser_id)
        .values(**values)
    )


async def set_subscription(
    session: AsyncSession,
    account_id: uuid.UUID,
    advertiser_id: str,
    subscription_id: str,
    now: datetime,
) -> bool:
    """Store the advertiser's subscription if it is still this account's; whether it was."""
    result = await session.execute(
        update(TikTokAdvertiser)
        .where(
            TikTokAdvertiser.advertiser_id == advertiser_id,
            TikTokAdvertiser.account_id == account_id,
        )
        .values(subscription_id=subscription_id, subscribed_at=now)
        .returning(TikTokAdvertiser.id)
    )
    return result.first() is not None


async def get_backfill(
    session: AsyncSession, company_id: str, account_id: uuid.UUID, job_id: uuid.UUID
) -> BackfillJob | None:
    query = select(BackfillJob).where(
        BackfillJob.id == job_id,
        BackfillJob.company_id == company_id,
        BackfillJob.account_id == account_id,
    )
    return (await session.scalars(query)).one_or_none()


_ACTIVE = (BackfillStatus.queued, BackfillStatus.running)


async def active_backfill(session: AsyncSession, account_id: uuid.UUID) -> BackfillJob | None:
    query = (
        select(BackfillJob)
        .where(BackfillJob.account_id == account_id, BackfillJob.status.in_(_ACTIVE))
        .order_by(BackfillJob.created_at)
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def fail_active_backfills(
    session: AsyncSession, account_id: uuid.UUID, reason: str, now: datetime
) -> int:
    """End the account's queued and running backfills (their worker stops at its next
    step: the job is no longer running under its claim)."""
    result = await session.execute(
        update(BackfillJob)
        .where(BackfillJob.account_id == account_id, BackfillJob.status.in_(_ACTIVE))
        .values(status=BackfillStatus.failed, error=reason, finished_at=now, lease_until=None)
        .returning(BackfillJob.id)
    )
    return len(result.all())


async def claim_backfill(
    session: AsyncSession, now: datetime, lease_until: datetime
) -> BackfillJob | None:
    """Internal: the oldest queued job, or a running one whose worker's lease lapsed,
    leased to the caller; its claim number is `attempts`."""
    query = locked(
        select(BackfillJob)
        .where(
            or_(
                BackfillJob.status == BackfillStatus.queued,
                and_(BackfillJob.status == BackfillStatus.running, BackfillJob.lease_until < now),
            )
        )
        .order_by(BackfillJob.created_at)
        .limit(1),
        skip_locked=True,
    )
    job = (await session.scalars(query)).first()
    if job is not None:
        job.status = BackfillStatus.running
        job.attempts += 1
        job.lease_until = lease_until
        job.started_at = job.started_at or now
    return job


async def lock_backfill_claim(
    session: AsyncSession, job_id: uuid.UUID, attempt: int
) -> BackfillJob | None:
    """Internal: the job under a lock if it is still running under this claim."""
    query = locked(
        select(BackfillJob).where(
            BackfillJob.id == job_id,
            BackfillJob.status == BackfillStatus.running,
            BackfillJob.attempts == attempt,
        )
    )
    return (await session.scalars(query)).one_or_none()
