"""The event sequencer (`event_sequencer`): gives committed events their place in commit
order (`Event.seq`), about every second, so the feed (`GET /events/`) can page by it.

It runs wherever background jobs run; passes in several processes take turns (see
`repository.place_committed_events`), so which process places an event never matters.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.db import session_scope
from app.core.jobs import PeriodicJob
from app.events import repository

INTERVAL_SECONDS = 1.0


async def sequence_events(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Place every committed event not placed yet, batch after batch; how many."""
    placed = 0
    while True:
        async with session_scope(sessionmaker) as session:
            batch = await repository.place_committed_events(session)
        placed += batch
        if batch < repository.SEQUENCE_BATCH:
            return placed


def sequencer_job(sessionmaker: async_sessionmaker[AsyncSession]) -> PeriodicJob:
    async def run_once() -> int:
        return await sequence_events(sessionmaker)

    return PeriodicJob("event_sequencer", INTERVAL_SECONDS, run_once)
