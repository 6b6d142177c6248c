"""The events API's rules: the company's event feed, its CRM deliveries, and recovering the
dead ones. Nothing here commits: the request's session does.
"""

from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.db import utcnow
from app.core.pagination import InvalidCursor
from app.core.security import Principal
from app.events import repository
from app.events.models import CrmDelivery, DeliveryStatus, EventType
from app.events.schemas import EventFeed, EventOut


def feed_cursor(seq: int) -> str:
    """The opaque cursor of a place in the feed."""
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def feed_place(cursor: str) -> int:
    """The place a feed cursor names; `InvalidCursor` (422) for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        label, _, number = text.partition(":")
        if label != "seq" or not number.isascii() or not number.isdigit():
            raise ValueError(cursor)
        return int(number)
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise InvalidCursor from exc


async def feed(
    session: AsyncSession, principal: Principal, *, after: str | None, limit: int
) -> EventFeed:
    """The company's events after the cursor `after`, in commit order, up to `limit`.

    Events are listed once the sequencer placed them (`sequence_events`, the
    `event_sequencer` job, about every second): a place is given in commit order, so a
    reader that resumes from its last cursor never misses an event, however late its
    transaction committed."""
    rows = await repository.list_events(
        session,
        principal.company_id,
        after=feed_place(after) if after else None,
        limit=limit,
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = feed_cursor(rows[-1].seq) if rows and rows[-1].seq is not None else after
    return EventFeed(
        items=[EventOut.from_event(row) for row in rows], next_cursor=cursor, has_more=has_more
    )


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    *,
    event_type: EventType | None,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> list[CrmDelivery]:
    return await repository.list_deliveries(
        session,
        principal.company_id,
        event_type=event_type,
        status=status,
        cursor=cursor,
        limit=limit,
    )


async def recover(session: AsyncSession, principal: Principal, since: datetime) -> int:
    """Every dead delivery of the company's events since `since` goes back to `pending`
    (attempts and retry window reset, due now); how many."""
    ids = await repository.requeue_dead_since(session, principal.company_id, since, utcnow())
    if ids:
        audit.record(
            session,
            event="events.deliveries_recovered",
            company_id=principal.company_id,
            message=f"{len(ids)} dead CRM deliveries were queued again.",
            data={"since": since.isoformat(), "recovered": len(ids)},
            actor=principal.actor,
        )
    return len(ids)
