"""Durable work in rows (`app.core.queue`): a claim takes due rows no one else holds, leases
them and counts the attempt; every later write is fenced by the claim; a retry backs off; the
last attempt is dead-lettered. On SQLite and PostgreSQL, against a table of the test's own."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.db import UTCDateTime, create_engine, create_sessionmaker, session_scope, utcnow
from app.core.queue import Claim, Fate, Statuses, WorkQueue
from app.core.retry import backoff_seconds
from tests.conftest import make_settings

metadata = MetaData()
JOBS = Table(
    "queue_test_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_until", UTCDateTime()),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("note", String(64)),
)

# Leased work with a due time (the CRM outbox's shape).
QUEUE = WorkQueue(
    table=JOBS,
    statuses=Statuses(ready="pending", claimed="running", done="done", dead="dead"),
    attempts="attempts",
    lease="lease_until",
    due="next_attempt_at",
    order_by=(JOBS.c.next_attempt_at, JOBS.c.id),
    max_attempts=3,
)
# Leased work without a due time (the lead backfills' shape).
UNSCHEDULED = WorkQueue(
    table=JOBS,
    statuses=Statuses(ready="pending", claimed="running", done="done", dead="dead"),
    attempts="attempts",
    lease="lease_until",
    order_by=(JOBS.c.id,),
)
# The same rows seen by a queue with neither status nor attempt counter: the lease fences.
LEASE_ONLY = WorkQueue(table=JOBS, lease="lease_until", order_by=(JOBS.c.id,))
# An inbox: claimed under row locks for one transaction and settled in it.
INBOX = WorkQueue(
    table=JOBS,
    statuses=Statuses(ready="pending", done="done", dead="dead"),
    attempts="attempts",
    order_by=(JOBS.c.id,),
    max_attempts=2,
)
LEASE = timedelta(seconds=30)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings(database_url=database_url))
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield engine
    finally:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)
        await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


async def seed(
    sessionmaker: async_sessionmaker[AsyncSession],
    ids: range,
    *,
    due: datetime,
    status: str = "pending",
) -> None:
    rows = [
        {"id": i, "status": status, "attempts": 0, "next_attempt_at": due + timedelta(seconds=i)}
        for i in ids
    ]
    async with session_scope(sessionmaker) as session:
        await session.execute(insert(JOBS), rows)


async def rows(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[int, Any]:
    async with sessionmaker() as session:
        result = await session.execute(select(JOBS).order_by(JOBS.c.id))
        return {row.id: row for row in result}


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: WorkQueue = QUEUE,
    *,
    now: datetime,
    limit: int = 10,
    lease: timedelta | None = LEASE,
) -> list[Claim]:
    async with session_scope(sessionmaker) as session:
        lease_until = now + lease if lease is not None else None
        return await queue.claim(
            session, now=now, limit=limit, lease_until=lease_until, columns=("note",)
        )


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


# Claiming ------------------------------------------------------------------------------------


async def test_a_claim_takes_the_earliest_due_rows_leases_them_and_counts_the_attempt(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 6), due=now - timedelta(minutes=1))
    await seed(sessionmaker, range(6, 7), due=now + timedelta(minutes=1))  # not yet due
    await seed(sessionmaker, range(7, 8), due=now - timedelta(minutes=1), status="done")

    first = await claim(sessionmaker, now=now, limit=3)

    assert sorted(c.id for c in first) == [1, 2, 3]
    assert {(c.attempt, c.lease_until) for c in first} == {(1, now + LEASE)}
    stored = await rows(sessionmaker)
    assert [(stored[i].status, stored[i].attempts) for i in (1, 2, 3)] == [("running", 1)] * 3
    assert stored[1].lease_until == now + LEASE
    assert sorted(c.id for c in await claim(sessionmaker, now=now)) == [4, 5]
    assert await claim(sessionmaker, now=now) == []


async def test_a_batch_is_claimed_and_settled_in_one_statement_each(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 51), due=now - timedelta(hours=1))
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with session_scope(sessionmaker) as session:
            claimed = await QUEUE.claim(session, now=now, limit=50, lease_until=now + LEASE)
        async with session_scope(sessionmaker) as session:
            settled = await QUEUE.done(session, claimed, values={"note": "ok"})
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

    assert (len(claimed), len(settled)) == (50, 50)
    assert len(statements) == 2
    assert {(r.status, r.note) for r in (await rows(sessionmaker)).values()} == {("done", "ok")}


async def test_concurrent_claimers_never_get_the_same_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 201), due=now - timedelta(hours=1))
    taken: list[int] = []

    async def worker() -> None:
        while batch := await claim(sessionmaker, now=now, limit=7):
            taken.extend(c.id for c in batch)
            await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(8)))

    assert sorted(taken) == list(range(1, 201))
    assert {r.attempts for r in (await rows(sessionmaker)).values()} == {1}


async def test_a_claim_passes_over_rows_another_open_claim_holds(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    if not is_postgres(engine):
        pytest.skip("row locks are PostgreSQL's; SQLite's write transaction serializes claimers")
    now = utcnow()
    await seed(sessionmaker, range(1, 9), due=now - timedelta(hours=1))
    for queue, lease_until in ((QUEUE, now + LEASE), (INBOX, None)):
        async with sessionmaker() as holding, sessionmaker() as other:
            first = await queue.claim(holding, now=now, limit=5, lease_until=lease_until)
            # Uncommitted: the rows are locked. The other claim skips them, it does not wait.
            second = await asyncio.wait_for(
                queue.claim(other, now=now, limit=5, lease_until=lease_until), timeout=5
            )
            await holding.rollback()
            await other.rollback()
        assert (len(first), len(second)) == (5, 3)
        assert {c.id for c in first} | {c.id for c in second} == set(range(1, 9))


async def test_a_lapsed_lease_is_claimed_again_as_the_next_attempt(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 2), due=now - timedelta(minutes=1))
    [first] = await claim(sessionmaker, now=now)

    assert await claim(sessionmaker, now=now + LEASE - timedelta(seconds=1)) == []
    [again] = await claim(sessionmaker, now=now + LEASE + timedelta(seconds=1))

    assert (first.id, first.attempt, again.id, again.attempt) == (1, 1, 1, 2)


# Fencing -------------------------------------------------------------------------------------


async def test_a_worker_whose_lease_lapsed_and_was_taken_over_settles_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 2), due=now - timedelta(minutes=1))
    [stale] = await claim(sessionmaker, now=now)
    [current] = await claim(sessionmaker, now=now + LEASE + timedelta(seconds=1))

    async with session_scope(sessionmaker) as session:
        assert await QUEUE.done(session, [stale], values={"note": "stale"}) == []
        assert await QUEUE.dead(session, stale) is None
        assert await QUEUE.retry(session, stale, at=now) is Fate.lost
        assert await QUEUE.renew(session, stale, lease_until=now + 2 * LEASE) is None
    async with session_scope(sessionmaker) as session:
        [settled] = await QUEUE.done(session, [current], values={"note": "current"})

    assert settled["id"] == 1
    row = (await rows(sessionmaker))[1]
    assert (row.status, row.attempts, row.note, row.lease_until) == ("done", 2, "current", None)


async def test_a_lapsed_lease_no_one_took_over_may_still_be_settled(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 2), due=now - timedelta(hours=1))
    [late] = await claim(sessionmaker, now=now - 2 * LEASE)

    async with session_scope(sessionmaker) as session:
        assert len(await QUEUE.done(session, [late])) == 1
    assert (await rows(sessionmaker))[1].status == "done"


async def test_without_an_attempt_counter_the_lease_fences(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 3), due=now)
    stale = await claim(sessionmaker, LEASE_ONLY, now=now)
    assert await claim(sessionmaker, LEASE_ONLY, now=now) == []  # leased, not due
    current = await claim(sessionmaker, LEASE_ONLY, now=now + LEASE + timedelta(seconds=1))

    assert {c.attempt for c in stale + current} == {0}
    async with session_scope(sessionmaker) as session:
        assert await LEASE_ONLY.done(session, stale) == []
        assert len(await LEASE_ONLY.done(session, current, values={"note": "synced"})) == 2
    stored = await rows(sessionmaker)
    assert {(r.lease_until, r.note, r.attempts) for r in stored.values()} == {(None, "synced", 0)}


async def test_a_zombie_of_a_requeued_row_settles_nothing_of_its_new_attempt_1(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # A requeue resets the attempt counter (a replay), so the new claim is attempt 1 again:
    # only its lease tells it from the zombie still holding the first attempt 1.
    now = utcnow()
    await seed(sessionmaker, range(1, 2), due=now - timedelta(minutes=1))
    [zombie] = await claim(sessionmaker, now=now)
    [taken_over] = await claim(sessionmaker, now=now + LEASE + timedelta(seconds=1))
    async with session_scope(sessionmaker) as session:
        assert await QUEUE.dead(session, taken_over) is not None
    later = now + 3 * LEASE
    async with session_scope(sessionmaker) as session:
        [moved] = await QUEUE.requeue(
            session, where=JOBS.c.id == 1, now=later, values={"attempts": 0}
        )
    assert moved["id"] == 1
    [fresh] = await claim(sessionmaker, now=later)
    assert (zombie.attempt, fresh.attempt) == (1, 1)

    async with session_scope(sessionmaker) as session:
        assert await QUEUE.done(session, [zombie], values={"note": "zombie"}) == []
        assert await QUEUE.dead(session, zombie) is None
        assert await QUEUE.retry(session, zombie, at=later) is Fate.lost
        assert await QUEUE.renew(session, zombie, lease_until=later + 2 * LEASE) is None
    row = (await rows(sessionmaker))[1]
    assert (row.status, row.attempts, row.lease_until, row.note) == (
        "running",
        1,
        later + LEASE,
        None,
    )
    async with session_scope(sessionmaker) as session:
        assert len(await QUEUE.done(session, [fresh], values={"note": "fresh"})) == 1


async def test_a_requeue_moves_settled_rows_back_to_ready_and_due_now(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 5), due=now - timedelta(minutes=1))
    claimed = {c.id: c for c in await claim(sessionmaker, now=now)}
    async with session_scope(sessionmaker) as session:
        await QUEUE.done(session, [claimed[1]])
        await QUEUE.dead(session, claimed[2])
        await QUEUE.dead(session, claimed[4])
    later = now + LEASE / 2  # row 3 is still leased

    async with session_scope(sessionmaker) as session:
        moved = await QUEUE.requeue(session, where=JOBS.c.id < 4, now=later, returning=("note",))

    assert sorted((r["id"], r["attempts"], r["note"]) for r in moved) == [
        (1, 1, None),
        (2, 1, None),
    ]
    stored = await rows(sessionmaker)
    assert [(r.status, r.next_attempt_at, r.lease_until) for r in stored.values()] == [
        ("pending", later, None),
        ("pending", later, None),
        ("running", now - timedelta(minutes=1) + timedelta(seconds=3), now + LEASE),
        ("dead", now - timedelta(minutes=1) + timedelta(seconds=4), None),
    ]
    assert sorted(c.id for c in await claim(sessionmaker, now=later)) == [1, 2]


async def test_a_renewed_lease_keeps_the_row_and_writes_progress(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 2), due=now - timedelta(minutes=1))
    [claimed] = await claim(sessionmaker, now=now)
    later = now + LEASE - timedelta(seconds=1)

    async with session_scope(sessionmaker) as session:
        renewed = await QUEUE.renew(
            session, claimed, lease_until=later + LEASE, values={"note": "half way"}
        )

    assert renewed is not None
    assert (renewed.attempt, renewed.lease_until) == (1, later + LEASE)
    assert await claim(sessionmaker, now=now + LEASE + timedelta(seconds=1)) == []
    row = (await rows(sessionmaker))[1]
    assert (row.status, row.note, row.lease_until) == ("running", "half way", later + LEASE)


# Backing off and dead letters ------------------------------------------------------------------


async def test_a_retry_is_due_again_after_its_backoff(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 2), due=now - timedelta(minutes=1))
    [first] = await claim(sessionmaker, now=now)
    delay = backoff_seconds(first.attempt, 10.0, 3600.0, random.Random(3))
    at = now + timedelta(seconds=delay)

    async with session_scope(sessionmaker) as session:
        fate = await QUEUE.retry(session, first, at=at, values={"note": "HTTP 503"})

    assert fate is Fate.retried
    row = (await rows(sessionmaker))[1]
    assert (row.status, row.next_attempt_at, row.lease_until, row.note) == (
        "pending",
        at,
        None,
        "HTTP 503",
    )
    assert await claim(sessionmaker, now=at - timedelta(microseconds=1)) == []
    [again] = await claim(sessionmaker, now=at)
    assert again.attempt == 2


async def test_without_a_due_column_a_retry_holds_the_row_until_then(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 2), due=now)
    [first] = await claim(sessionmaker, UNSCHEDULED, now=now)
    at = now + timedelta(seconds=10)
    async with session_scope(sessionmaker) as session:
        assert await UNSCHEDULED.retry(session, first, at=at) is Fate.retried

    assert await claim(sessionmaker, UNSCHEDULED, now=at - timedelta(seconds=1)) == []
    [second] = await claim(sessionmaker, UNSCHEDULED, now=at + timedelta(seconds=1))
    async with session_scope(sessionmaker) as session:
        assert await UNSCHEDULED.retry(session, second) is Fate.retried
    assert (await rows(sessionmaker))[1].status == "pending"
    [third] = await claim(sessionmaker, UNSCHEDULED, now=at + timedelta(seconds=1))
    assert [c.attempt for c in (first, second, third)] == [1, 2, 3]


async def test_the_attempt_that_reaches_max_attempts_is_dead_lettered(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 2), due=now - timedelta(minutes=1))
    fates: list[Fate] = []
    while claimed := await claim(sessionmaker, now=now):
        async with session_scope(sessionmaker) as session:
            fates.append(await QUEUE.retry(session, claimed[0], at=now))

    assert fates == [Fate.retried, Fate.retried, Fate.dead]
    row = (await rows(sessionmaker))[1]
    assert (row.status, row.attempts, row.lease_until) == ("dead", 3, None)


async def test_a_permanent_failure_is_dead_at_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 2), due=now - timedelta(minutes=1))
    [claimed] = await claim(sessionmaker, now=now)

    async with session_scope(sessionmaker) as session:
        dead = await QUEUE.dead(session, claimed, values={"note": "HTTP 400"}, returning=("note",))

    assert dead is not None
    assert dead["note"] == "HTTP 400"
    assert await claim(sessionmaker, now=now + 10 * LEASE) == []


# An inbox: row locks for one transaction ---------------------------------------------------------


async def test_an_inbox_claim_is_settled_in_its_transaction_and_the_settle_counts_it(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 4), due=now)
    async with session_scope(sessionmaker) as session:
        claimed = await INBOX.claim(session, now=now, limit=10)
        assert [(c.id, c.attempt, c.leased) for c in claimed] == [
            (1, 1, False),
            (2, 1, False),
            (3, 1, False),
        ]
        await INBOX.done(session, claimed[:2], values={"note": "applied"})
        assert await INBOX.retry(session, claimed[2], values={"note": "hiccup"}) is Fate.retried

    stored = await rows(sessionmaker)
    assert [(r.status, r.attempts, r.note) for r in stored.values()] == [
        ("done", 1, "applied"),
        ("done", 1, "applied"),
        ("pending", 1, "hiccup"),
    ]
    async with session_scope(sessionmaker) as session:
        [last] = await INBOX.claim(session, now=now, limit=10)
        assert last.attempt == 2
        assert await INBOX.retry(session, last) is Fate.dead
    assert (await rows(sessionmaker))[3].status == "dead"


async def test_an_inbox_claim_that_rolls_back_leaves_its_rows_as_they_were(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    await seed(sessionmaker, range(1, 3), due=now)

    async def apply_and_fail() -> None:
        async with session_scope(sessionmaker) as session:
            claimed = await INBOX.claim(session, now=now, limit=10)
            await INBOX.done(session, claimed)
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        await apply_and_fail()

    stored = await rows(sessionmaker)
    assert {(r.status, r.attempts) for r in stored.values()} == {("pending", 0)}


def test_a_queue_that_cannot_do_what_it_declares_is_refused() -> None:
    with pytest.raises(ValueError, match="no column lease"):
        WorkQueue(table=JOBS, lease="lease", order_by=(JOBS.c.id,))
    with pytest.raises(ValueError, match="needs a dead status"):
        WorkQueue(table=JOBS, attempts="attempts", order_by=(JOBS.c.id,), max_attempts=3)


async def test_a_queue_without_settled_statuses_requeues_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        with pytest.raises(ValueError, match="no settled status"):
            await LEASE_ONLY.requeue(session, where=JOBS.c.id == 1)
