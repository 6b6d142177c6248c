"""The subscription checker's pass, run periodically wherever background jobs run.

It claims one advertiser at a time in a short transaction (`SKIP LOCKED` plus a lease),
then talks to TikTok outside any transaction, so several replicas share the work and
SQLite's write lock is never held across a TikTok call.
"""

from __future__ import annotations

from datetime import timedelta

from app.advertisers import repository
from app.advertisers.subscriptions import CheckerContext, check_subscription
from app.core.db import session_scope, utcnow
from app.core.jobs import PeriodicJob

# A claimed check is retried by any replica after this, should its checker die.
CHECK_LEASE = timedelta(minutes=5)
CHECKS_PER_PASS = 200
# How often the checker looks for advertisers due a check (at most this).
SUBSCRIPTION_CHECK_PASS_SECONDS = 60.0


async def check_due_subscriptions(context: CheckerContext) -> int:
    """One pass: check every advertiser whose subscription was not checked within the
    interval (up to a batch); returns how many were checked."""
    client = context.business
    if client is None:
        return 0
    interval = timedelta(seconds=context.settings.leads_subscription_check_interval_seconds)
    checked = 0
    while checked < CHECKS_PER_PASS:
        now = utcnow()
        async with session_scope(context.sessionmaker) as session:
            claim = await repository.claim_subscription_check(
                session, now - interval, now, now + CHECK_LEASE
            )
        if claim is None:
            break
        await check_subscription(context, client, claim)
        checked += 1
    return checked


def job(context: CheckerContext) -> PeriodicJob:
    """The lead subscription checker (for a runtime with TikTok for Business configured)."""

    async def check_subscriptions() -> int:
        return await check_due_subscriptions(context)

    interval = context.settings.leads_subscription_check_interval_seconds
    every = min(SUBSCRIPTION_CHECK_PASS_SECONDS, interval)
    return PeriodicJob("lead_subscription_check", every, check_subscriptions)
