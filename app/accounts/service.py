"""Business rules for integration accounts: create, rename, delete, with an audit trail."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import lifecycle, repository
from app.accounts.errors import AccountNotFound
from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.audit import service as audit
from app.core.security import Principal


async def get(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID
) -> IntegrationAccount:
    account = await repository.get(session, principal.company_id, account_id)
    if account is None:
        raise AccountNotFound
    return account


async def list_page(
    session: AsyncSession,
    principal: Principal,
    *,
    platform: Platform | None,
    status: AccountStatus | None,
    cursor: str | None,
    limit: int,
    external_ref: str | None = None,
) -> list[Row[Any]]:
    """Rows of `repository.LISTED_COLUMNS` (see `schemas.account_out_of_row`)."""
    return await repository.list_page_rows(
        session,
        principal.company_id,
        platform=platform,
        status=status,
        cursor=cursor,
        limit=limit,
        external_ref=external_ref,
    )


async def create(
    session: AsyncSession,
    principal: Principal,
    platform: Platform,
    name: str,
    *,
    metadata: dict[str, Any] | None = None,
    external_ref: str | None = None,
) -> IntegrationAccount:
    account = IntegrationAccount(
        id=uuid.uuid4(),
        company_id=principal.company_id,
        platform=platform,
        name=name,
        status=AccountStatus.pending,
        created_by=principal.actor,
        meta=metadata,
        external_ref=external_ref,
    )
    session.add(account)
    audit.record(
        session,
        event="account.created",
        company_id=principal.company_id,
        account_id=account.id,
        message=f"Account '{name}' created for {platform.value}.",
        actor=principal.actor,
    )
    await session.flush()
    return account


async def update(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID, changes: dict[str, Any]
) -> IntegrationAccount:
    """A PATCH: `changes` holds the fields sent (`name`, `metadata`, `external_ref`)."""
    account = await get(session, principal, account_id)
    if "name" in changes:
        await _rename(session, principal, account, changes["name"])
    current = {"metadata": account.meta, "external_ref": account.external_ref}
    labels = sorted(
        field for field in current if field in changes and changes[field] != current[field]
    )
    if labels:
        if "metadata" in labels:
            account.meta = changes["metadata"]
        if "external_ref" in labels:
            account.external_ref = changes["external_ref"]
        audit.record(
            session,
            event="account.labels_changed",
            company_id=principal.company_id,
            account_id=account.id,
            message=f"Changed {' and '.join(labels)}.",
            # Which fields, not their values: those are the CRM's data, not audit facts.
            data={"fields": labels},
            actor=principal.actor,
        )
        await session.flush()
    return account


async def _rename(
    session: AsyncSession, principal: Principal, account: IntegrationAccount, name: str
) -> None:
    if account.name != name:
        audit.record(
            session,
            event="account.renamed",
            company_id=principal.company_id,
            account_id=account.id,
            message=f"Renamed from '{account.name}' to '{name}'.",
            data={"old_name": account.name, "new_name": name},
            actor=principal.actor,
        )
        account.name = name
        await session.flush()


async def delete(
    session: AsyncSession,
    principal: Principal,
    account_id: uuid.UUID,
    revoke: dict[str, object] | None = None,
) -> None:
    account = await get(session, principal, account_id)
    lifecycle.deleted(
        session,
        account,
        actor=principal.actor,
        message=f"Account '{account.name}' ({account.platform.value}) deleted.",
        data={"account_id": str(account.id), **(revoke or {})},
    )
    await session.delete(account)
    await session.flush()
