"""Writing and reading the account audit timeline."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import IntegrationLog, LogLevel
from app.core.logging import redact
from app.core.pagination import keyset_page


def record(
    session: AsyncSession,
    *,
    event: str,
    company_id: str | None,
    account_id: uuid.UUID | None = None,
    message: str = "",
    level: LogLevel = LogLevel.info,
    data: dict[str, Any] | None = None,
    actor: str | None = None,
) -> IntegrationLog:
    """Add a log entry to the session (committed with the caller's transaction)."""
    entry = IntegrationLog(
        company_id=company_id,
        account_id=account_id,
        event=event,
        level=level.value,
        message=message,
        data=redact(data or {}),
        actor=actor,
    )
    session.add(entry)
    return entry


async def list_for_account(
    session: AsyncSession,
    company_id: str,
    account_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> list[IntegrationLog]:
    query = select(IntegrationLog).where(
        IntegrationLog.company_id == company_id, IntegrationLog.account_id == account_id
    )
    query = keyset_page(query, IntegrationLog.created_at, IntegrationLog.id, cursor, limit)
    return list((await session.scalars(query)).all())
