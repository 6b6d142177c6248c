"""SQL for integration accounts. Every query is scoped to one company."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.core.pagination import keyset_page


async def get(
    session: AsyncSession, company_id: str, account_id: uuid.UUID, *, for_update: bool = False
) -> IntegrationAccount | None:
    query = select(IntegrationAccount).where(
        IntegrationAccount.id == account_id, IntegrationAccount.company_id == company_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def list_page(
    session: AsyncSession,
    company_id: str,
    *,
    platform: Platform | None,
    status: AccountStatus | None,
    cursor: str | None,
    limit: int,
) -> list[IntegrationAccount]:
    query = select(IntegrationAccount).where(IntegrationAccount.company_id == company_id)
    if platform is not None:
        query = query.where(IntegrationAccount.platform == platform)
    if status is not None:
        query = query.where(IntegrationAccount.status == status)
    query = keyset_page(query, IntegrationAccount.created_at, IntegrationAccount.id, cursor, limit)
    return list((await session.scalars(query)).all())
