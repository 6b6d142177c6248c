"""The event sequencer (`event_sequencer`): gives committed events their place in commit
order (`Event.seq`), about every second, so the feed (`GET /events/`) can page by it.

It runs wherever background jobs run; passes in several processes take turns (see
`repository.place_committed_events`), so which process places an event never matters.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.db import read_engine, session_scope
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


def sequencer_job(
    sessionmaker: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> PeriodicJob:
    reads = read_engine(engine)

    async def run_once() -> int:
        # Usually nothing waits: find out with a read, so an idle second takes no write
        # transaction (on SQLite, the database's one write lock).
        async with reads.connect() as connection:
            if not await repository.any_unplaced(connection):
                return 0
        return await sequence_events(sessionmaker)

    return PeriodicJob("event_sequencer", INTERVAL_SECONDS, run_once)
