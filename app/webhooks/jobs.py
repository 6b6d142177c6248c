"""The webhook sweeper: processes events left `received` (a crash or a failure after the
200) and forgets settled events once TikTok can no longer retry them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.core.jobs import PeriodicJob
from app.webhooks import repository, service

BATCH_SIZE = 50
# Fresh events are being processed by the request that stored them; leave them a moment.
GRACE = timedelta(seconds=10)
# TikTok retries for 72 h; dedupe keys are kept well past that.
RETENTION = timedelta(days=30)


async def sweep_webhook_events(
    sessionmaker: async_sessionmaker[AsyncSession], *, grace: timedelta = GRACE
) -> int:
    """One pass; returns how many events it processed."""
    now = utcnow()
    async with sessionmaker() as session:
        due = await repository.received_before(session, now - grace, BATCH_SIZE)
    processed = 0
    for event_id in due:
        if await service.process(sessionmaker, event_id):
            processed += 1
    async with session_scope(sessionmaker) as session:
        await repository.delete_settled_before(session, now - RETENTION)
    return processed


def job(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> PeriodicJob:
    async def run_once() -> int:
        return await sweep_webhook_events(sessionmaker)

    return PeriodicJob("webhook_sweep", settings.tiktok_webhook_sweep_interval_seconds, run_once)
