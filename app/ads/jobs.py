"""Background passes of the ads domain, run periodically in the app's lifespan.

Each claims its work one item at a time in a short transaction (`SKIP LOCKED` plus a
lease), then talks to TikTok outside any transaction, so several replicas share the work
and SQLite's write lock is never held across a TikTok call.
"""

from __future__ import annotations

from datetime import timedelta

from app.ads import repository
from app.ads.backfill import BackfillRunner, ClaimedBackfill
from app.ads.service import AdsService
from app.ads.subscriptions import check_subscription
from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.core.jobs import PeriodicJob

# A claimed check is retried by any replica after this, should its checker die.
CHECK_LEASE = timedelta(minutes=5)
CHECKS_PER_PASS = 200
BACKFILLS_PER_PASS = 5


async def check_due_subscriptions(ads: AdsService) -> int:
    """One pass: check every advertiser whose subscription was not checked within the
    interval (up to a batch); returns how many were checked."""
    if ads.business is None:
        return 0
    interval = timedelta(seconds=ads.settings.leads_subscription_check_interval_seconds)
    checked = 0
    while checked < CHECKS_PER_PASS:
        now = utcnow()
        async with session_scope(ads.sessionmaker) as session:
            claim = await repository.claim_subscription_check(
                session, now - interval, now, now + CHECK_LEASE
            )
        if claim is None:
            break
        await check_subscription(ads, claim)
        checked += 1
    return checked


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


# How often the subscription checker looks for advertisers due a check (at most this).
SUBSCRIPTION_CHECK_PASS_SECONDS = 60.0


def jobs(ads: AdsService, settings: Settings) -> list[PeriodicJob]:
    """The backfill worker and the lead subscription checker."""

    async def backfill_leads() -> int:
        return await run_due_backfills(ads)

    async def check_subscriptions() -> int:
        return await check_due_subscriptions(ads)

    check_every = min(
        SUBSCRIPTION_CHECK_PASS_SECONDS, settings.leads_subscription_check_interval_seconds
    )
    return [
        PeriodicJob("lead_backfill", settings.leads_backfill_interval_seconds, backfill_leads),
        PeriodicJob("lead_subscription_check", check_every, check_subscriptions),
    ]
