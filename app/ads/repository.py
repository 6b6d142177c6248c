"""SQL for ads accounts' backfill jobs and lead reconciliations (their advertisers' is
`app.advertisers.repository`).

CRM-facing reads are scoped to one company; the workers' claims are not, and say so. Claims
lock with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas take disjoint rows, and set a
lease that keeps the row theirs after the short claiming transaction commits. SQLite has no
row locks: its `BEGIN IMMEDIATE` write transaction serializes claimers instead.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.ads.models import (
    BackfillJob,
    BackfillStatus,
    Reconciliation,
    ReconciliationStatus,
)
from app.advertisers.models import TikTokAdvertiser
from app.core.pagination import keyset_page
from app.core.queue import Claim, Statuses, WorkQueue


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


BACKFILLS = WorkQueue(
    table=cast(Table, BackfillJob.__table__),
    statuses=Statuses(
        ready=BackfillStatus.queued,
        claimed=BackfillStatus.running,
        done=BackfillStatus.succeeded,
        dead=BackfillStatus.failed,
    ),
    attempts="attempts",
    lease="lease_until",
    order_by=(BackfillJob.created_at,),
)


async def claim_backfill(
    session: AsyncSession, now: datetime, lease_until: datetime
) -> Claim | None:
    """Internal: the oldest queued job, or a running one whose worker's lease lapsed,
    leased to the caller, with what the worker needs of it; its claim number is `attempt`."""
    started_at = BACKFILLS.table.c.started_at
    claimed = await BACKFILLS.claim(
        session,
        now=now,
        limit=1,
        lease_until=lease_until,
        values={"started_at": func.coalesce(started_at, now)},
        columns=("account_id", "company_id", "form_id", "completed_forms"),
    )
    return claimed[0] if claimed else None


# Lead reconciliations: the advertisers of connected ads accounts whose run is due, the
# longest due first. A claim's lease (on the advertiser row) is the fence; a run that could
# not start keeps its advertiser leased until it is due again.
_advertisers = cast(Table, TikTokAdvertiser.__table__)
RECONCILIATIONS = WorkQueue(
    table=_advertisers,
    lease="reconcile_lease_until",
    where=TikTokAdvertiser.account_id.in_(
        select(IntegrationAccount.id).where(
            IntegrationAccount.platform == Platform.tiktok_ads,
            IntegrationAccount.status == AccountStatus.connected,
        )
    ),
    order_by=(
        func.coalesce(TikTokAdvertiser.reconcile_due_at, TikTokAdvertiser.created_at),
        TikTokAdvertiser.advertiser_id,
    ),
)
STOPPED = "worker_stopped"


async def claim_reconciliation(
    session: AsyncSession, now: datetime, lease_until: datetime, interval: timedelta
) -> tuple[Claim, Reconciliation] | None:
    """Internal (every company): one advertiser whose reconciliation is due (never run: one
    `interval` after it was connected), leased to the caller, with its new report. A report
    its advertiser's earlier worker left running (that worker died: its lease lapsed) is
    closed as failed."""
    due = TikTokAdvertiser.reconcile_due_at
    claimed = await RECONCILIATIONS.claim(
        session,
        limit=1,
        now=now,
        lease_until=lease_until,
        where=or_(due <= now, and_(due.is_(None), TikTokAdvertiser.created_at <= now - interval)),
        columns=("advertiser_id", "account_id", "company_id"),
    )
    if not claimed:
        return None
    (claim,) = claimed
    row = claim.row
    await session.execute(
        update(Reconciliation)
        .where(
            Reconciliation.advertiser_id == row["advertiser_id"],
            Reconciliation.status == ReconciliationStatus.running,
        )
        .values(
            status=ReconciliationStatus.failed,
            finished_at=now,
            errors=[{"code": STOPPED, "message": "The worker stopped before finishing."}],
        )
    )
    report = Reconciliation(
        id=uuid.uuid4(),
        company_id=row["company_id"],
        account_id=row["account_id"],
        advertiser_id=row["advertiser_id"],
        status=ReconciliationStatus.running,
        forms_checked=0,
        regions_checked=0,
        leads_seen=0,
        gaps_found=0,
        gaps_filled=0,
        gap_lead_ids=[],
        errors=[],
        created_at=now,
    )
    session.add(report)
    await session.flush()
    return claim, report


async def list_reconciliations(
    session: AsyncSession, company_id: str, account_id: uuid.UUID, cursor: str | None, limit: int
) -> list[Reconciliation]:
    """The account's reconciliation reports, newest first (keyset over created_at, id)."""
    query = select(Reconciliation).where(
        Reconciliation.company_id == company_id, Reconciliation.account_id == account_id
    )
    query = keyset_page(query, Reconciliation.created_at, Reconciliation.id, cursor, limit)
    return list((await session.scalars(query)).all())


async def latest_reconciliations(
    session: AsyncSession, company_id: str, limit: int
) -> list[Reconciliation]:
    query = (
        select(Reconciliation)
        .where(Reconciliation.company_id == company_id)
        .order_by(Reconciliation.created_at.desc(), Reconciliation.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
