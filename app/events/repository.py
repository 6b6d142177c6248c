"""SQL for events and their CRM deliveries.

CRM-facing reads and writes are scoped to one company. The delivery queue (`DELIVERIES`)
works across companies, as a worker does, and says so.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.pagination import keyset_page
from app.core.queue import Claim, Statuses, WorkQueue
from app.core.sql import dialect_name
from app.events.models import CrmDelivery, DeliveryStatus, Event, EventType

DELIVERIES = WorkQueue(
    table=cast(Table, CrmDelivery.__table__),
    statuses=Statuses(
        ready=DeliveryStatus.pending,
        claimed=DeliveryStatus.delivering,
        done=DeliveryStatus.delivered,
        dead=DeliveryStatus.dead,
    ),
    attempts="attempts",
    lease="lease_until",
    due="next_attempt_at",
    order_by=(CrmDelivery.next_attempt_at,),
)


async def claim_due(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> list[Claim]:
    """Internal: due deliveries, leased to the caller until `lease_until`, with their
    `payload` and `first_attempt_at` (the start of their retry window, set by their first
    claim).

    Due: pending and `next_attempt_at` reached, or delivering with a lapsed lease (its
    worker died). Each claim counts an attempt; the attempt number fences the outcome
    (`DELIVERIES.done`, `.retry`, `.dead`).
    """
    first_attempt_at = DELIVERIES.table.c.first_attempt_at
    return await DELIVERIES.claim(
        session,
        now=now,
        limit=limit,
        lease_until=lease_until,
        values={"first_attempt_at": func.coalesce(first_attempt_at, now)},
        columns=("payload", "first_attempt_at"),
    )


# Events given a place per sequencer pass; a backlog larger than this takes several passes.
SEQUENCE_BATCH = 1000
# The PostgreSQL advisory lock that makes sequencer passes one at a time across processes.
SEQUENCER_LOCK = 7_301_020_001


async def any_unplaced(connection: AsyncConnection) -> bool:
    """Whether a committed event waits for its place (a read: no write lock)."""
    events = cast(Table, Event.__table__)
    query = select(events.c.id).where(events.c.seq.is_(None)).limit(1)
    return (await connection.execute(query)).first() is not None


async def place_committed_events(session: AsyncSession) -> int:
    """Give every committed event without a place the next places, oldest first; how many.

    A pass sees only committed rows, and passes run one at a time (SQLite: the write
    transaction; PostgreSQL: a transaction-level advisory lock), so an event that commits
    late, after later-created ones were placed, is placed after them: the order of `seq` is
    the order in which events became visible, and a reader that pages by it never skips one.
    """
    if dialect_name(session) == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(SEQUENCER_LOCK)))
    events = cast(Table, Event.__table__)
    top = select(func.coalesce(func.max(events.c.seq), 0)).scalar_subquery()
    order = (events.c.created_at, events.c.id)
    numbered = (
        select(events.c.id, (top + func.row_number().over(order_by=order)).label("place"))
        .where(events.c.seq.is_(None))
        .order_by(*order)
        .limit(SEQUENCE_BATCH)
        .subquery()
    )
    statement = update(events).where(events.c.id == numbered.c.id).values(seq=numbered.c.place)
    result = cast("CursorResult[Any]", await session.execute(statement))
    return result.rowcount


async def list_events(
    session: AsyncSession, company_id: str, *, after: int | None, limit: int
) -> list[Event]:
    """The company's placed events after place `after`, in commit order; one more than
    `limit` when there are more."""
    query = select(Event).where(Event.company_id == company_id, Event.seq.is_not(None))
    if after is not None:
        query = query.where(Event.seq > after)
    query = query.order_by(Event.seq).limit(limit + 1)
    return list((await session.scalars(query)).all())


async def list_deliveries(
    session: AsyncSession,
    company_id: str,
    *,
    event_type: EventType | None,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> list[CrmDelivery]:
    """The company's deliveries, newest first (keyset over (created_at, id))."""
    query = select(CrmDelivery).where(CrmDelivery.company_id == company_id)
    if event_type is not None:
        query = query.where(CrmDelivery.event_type == event_type.value)
    if status is not None:
        query = query.where(CrmDelivery.status == status)
    query = keyset_page(query, CrmDelivery.created_at, CrmDelivery.id, cursor, limit)
    return list((await session.scalars(query)).all())


async def requeue_dead(
    session: AsyncSession, where: ColumnElement[bool], now: datetime
) -> list[uuid.UUID]:
    """Internal: the dead deliveries matching `where` go back to `pending`, due `now`,
    attempts and retry window reset (`DELIVERIES.requeue`: a claim a zombie worker still
    holds on one is fenced out by its lease); their ids."""
    rows = await DELIVERIES.requeue(
        session,
        where=and_(CrmDelivery.status == DeliveryStatus.dead, where),
        now=now,
        values={"attempts": 0, "first_attempt_at": None},
    )
    return [row["id"] for row in rows]


async def requeue_dead_since(
    session: AsyncSession, company_id: str, since: datetime, now: datetime
) -> list[uuid.UUID]:
    """The company's dead deliveries of events created at or after `since` go back to
    `pending`, due now, attempts and retry window reset; their ids."""
    return await requeue_dead(
        session,
        and_(CrmDelivery.company_id == company_id, CrmDelivery.created_at >= since),
        now,
    )
