"""The inbox job (`webhook_sweep`): applies stored webhook rows (every source) in batches,
retries the ones that failed, and forgets settled events once TikTok can no longer retry them.

It runs wherever background jobs run (in-process with `python -m app serve`, and in
`python -m app worker`). Each pass waits for `InboxSignal` — set by the webhook endpoint of
this process right after a store — or at most `WEBHOOK_POLL_INTERVAL_SECONDS`, which picks
up events stored by other processes; then it drains the new events. Failed events are
retried, and old settled ones deleted, every `TIKTOK_WEBHOOK_SWEEP_INTERVAL_SECONDS`. Several
processes may run the job at once: claims skip the rows another one holds.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.core.jobs import PeriodicJob, Wakeup
from app.webhooks import repository, service

BATCH_SIZE = service.BATCH_SIZE
# After a wake-up, stores arriving meanwhile join the batch (under load: fuller batches,
# fewer transactions); small next to "applied promptly".
GATHER_SECONDS = 0.05
# A sweep may leave the freshest events to the passes woken for them.
GRACE = timedelta(seconds=10)
# TikTok retries for 72 h; dedupe keys are kept well past that.
RETENTION = timedelta(days=30)


class InboxSignal(Wakeup):
    """ "Something was stored": set by the webhook endpoints, awaited by this process's
    inbox job."""


async def process_new_events(
    sessionmaker: async_sessionmaker[AsyncSession], handlers: service.InboxHandlers | None = None
) -> int:
    """Apply every row stored and not yet tried (Login Kit's, and those of the sources in
    `handlers`), batch after batch; how many were applied."""
    processed = 0
    while True:
        batch = await service.process_pending(sessionmaker, handlers, retries=False)
        processed += batch.processed
        if batch.claimed < BATCH_SIZE:
            return processed


async def sweep_webhook_events(
    sessionmaker: async_sessionmaker[AsyncSession],
    handlers: service.InboxHandlers | None = None,
    *,
    grace: timedelta = GRACE,
    now: datetime | None = None,
) -> int:
    """One sweep at `now` (default: the clock): every event still waiting since before
    `grace` ago and due (a failed one once its backoff is over), then the retention; returns
    how many events it processed.

    It goes on while batches come back full; a row that fails is not due again within the
    sweep, so the sweep ends, and each row is attempted at most once in it."""
    now = now or utcnow()
    processed = 0
    while True:
        batch = await service.process_pending(sessionmaker, handlers, before=now - grace, now=now)
        processed += batch.processed
        if batch.claimed < BATCH_SIZE:
            break
    async with session_scope(sessionmaker) as session:
        await repository.delete_settled_before(session, now - RETENTION)
    return processed


def job(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    signal: InboxSignal | None = None,
    handlers: service.InboxHandlers | None = None,
    applied: Wakeup | None = None,
) -> PeriodicJob:
    """The inbox job; `applied` is notified after a pass that applied rows (their effects
    may be work for another job: the CRM deliveries of announced leads)."""
    signal = signal or InboxSignal()
    last_sweep = -math.inf

    async def run_once() -> int:
        nonlocal last_sweep
        # Waiting first: a pass that fails (database down) is not retried in a tight loop.
        await signal.wait(settings.webhook_poll_interval_seconds, gather=GATHER_SECONDS)
        processed = await process_new_events(sessionmaker, handlers)
        if time.monotonic() - last_sweep >= settings.tiktok_webhook_sweep_interval_seconds:
            last_sweep = time.monotonic()
            processed += await sweep_webhook_events(sessionmaker, handlers, grace=timedelta(0))
        if processed and applied is not None:
            applied.notify()
        return processed

    # No sleep between passes: `run_once` waits for the signal or the poll interval itself.
    return PeriodicJob("webhook_sweep", 0.0, run_once, jitter=0.0)
