"""Writing events: one row per event, in the caller's transaction (see `models`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import utcnow
from app.events.models import Event, EventType


def emit(
    session: AsyncSession,
    type: EventType,
    *,
    company_id: str,
    account_id: uuid.UUID | None,
    data: dict[str, Any],
) -> Event:
    """Add one event to the session (committed, or not, with the caller's change)."""
    event = Event(
        id=uuid.uuid4(),
        company_id=company_id,
        type=type,
        account_id=account_id,
        data=data,
        created_at=utcnow(),
    )
    session.add(event)
    return event


async def emit_many(
    session: AsyncSession,
    type: EventType,
    rows: Iterable[tuple[str, uuid.UUID | None, dict[str, Any]]],
) -> int:
    """Many events of one type in one INSERT (a webhook batch of leads): (company, account,
    data) each; how many were written."""
    now = utcnow()
    values = [
        {
            "id": uuid.uuid4(),
            "company_id": company_id,
            "type": type,
            "account_id": account_id,
            "data": data,
            "created_at": now,
        }
        for company_id, account_id, data in rows
    ]
    if values:
        await session.execute(insert(Event), values)
    return len(values)
