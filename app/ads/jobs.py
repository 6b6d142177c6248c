"""The backfill worker's and the lead reconciliation's passes, run periodically wherever
background jobs run.

Each claims one job (a queued backfill, an advertiser due a reconciliation) at a time in a
short transaction (`SKIP LOCKED` plus a lease), then talks to TikTok outside any
transaction, so several replicas share the work and SQLite's write lock is never held
across a TikTok call. (The lead subscription checker is the advertisers' job:
`app.advertisers.jobs`.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.ads import repository
from app.ads.backfill import BackfillRunner, ClaimedBackfill
from app.ads.models import ReconciliationStatus
from app.ads.reconcile import ClaimedReconciliation, ReconciliationRunner
from app.ads.service import AdsService
from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.core.jobs import PeriodicJob

BACKFILLS_PER_PASS = 5
RECONCILIATIONS_PER_PASS = 10
# How often the reconciliation looks for advertisers due a run (at most this).
RECONCILIATION_PASS_SECONDS = 60.0


async def run_due_backfills(ads: AdsService) -> int:
    """One pass: run queued backfills (and those whose worker died) to their end; returns
    how many were run."""
    if ads.business is None:
        return 0
    lease = timedelta(seconds=ads.settings.leads_backfill_lease_seconds)
    ran = 0
    while ran < BACKFILLS_PER_PASS:
        now = utcnow()
        async with session_scope(ads.sessionmaker) as session:
            job = await repository.claim_backfill(session, now, now + lease)
            claim = ClaimedBackfill.of(job) if job is not None else None
        if claim is None:
            break
        await BackfillRunner(ads).run(claim)
        ran += 1
    return ran


async def run_due_reconciliations(
    ads: AdsService, now: datetime | None = None
) -> list[ReconciliationStatus | None]:
    """One pass: reconcile the advertisers whose run is due at `now` (default: the clock),
    up to a batch; each run's outcome (None: its lease was lost)."""
    if ads.business is None:
        return []
    settings = ads.settings
    lease = timedelta(seconds=settings.leads_backfill_lease_seconds)
    interval = timedelta(seconds=settings.leads_reconcile_interval_seconds)
    outcomes: list[ReconciliationStatus | None] = []
    while len(outcomes) < RECONCILIATIONS_PER_PASS:
        at = now or utcnow()
        async with session_scope(ads.sessionmaker) as session:
            claimed = await repository.claim_reconciliation(session, at, at + lease, interval)
            job = ClaimedReconciliation.of(*claimed) if claimed is not None else None
        if job is None:
            break
        outcomes.append(await ReconciliationRunner(ads).run(job))
    return outcomes


def jobs(ads: AdsService, settings: Settings) -> list[PeriodicJob]:
    """The backfill worker and the lead reconciliation."""

    async def backfill_leads() -> int:
        return await run_due_backfills(ads)

    async def reconcile_leads() -> int:
        return len(await run_due_reconciliations(ads))

    every = min(RECONCILIATION_PASS_SECONDS, settings.leads_reconcile_interval_seconds)
    return [
        PeriodicJob("lead_backfill", settings.leads_backfill_interval_seconds, backfill_leads),
        PeriodicJob("lead_reconciliation", every, reconcile_leads),
    ]
