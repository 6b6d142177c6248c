"""SQL for integration accounts. CRM-facing queries are scoped to one company; the few
internal ones (token work, background jobs) say so."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Row, Select, Table, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import BindParameter

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.core.pagination import decode_cursor
from app.core.queue import WorkQueue

# Built once: every account-scoped request reads its account, and building the statement
# (and its cache key) again on each call cost more than running it.
_GET = select(IntegrationAccount).where(
    IntegrationAccount.id == bindparam("account_id"),
    IntegrationAccount.company_id == bindparam("company_id"),
)
_GET_FOR_UPDATE = _GET.with_for_update()


async def get(
    session: AsyncSession, company_id: str, account_id: uuid.UUID, *, for_update: bool = False
) -> IntegrationAccount | None:
    query = _GET_FOR_UPDATE if for_update else _GET
    values = {"account_id": account_id, "company_id": company_id}
    return (await session.scalars(query, values)).one_or_none()


# What the API shows of an account (`AccountOut`): read with Core, as rows, on the hot list.
LISTED_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    IntegrationAccount.id,
    IntegrationAccount.platform,
    IntegrationAccount.name,
    IntegrationAccount.status,
    IntegrationAccount.external_id,
    IntegrationAccount.username,
    IntegrationAccount.display_name,
    IntegrationAccount.avatar_url,
    IntegrationAccount.granted_scopes,
    IntegrationAccount.access_token_expires_at,
    IntegrationAccount.refresh_token_expires_at,
    IntegrationAccount.connected_at,
    IntegrationAccount.disconnected_at,
    IntegrationAccount.last_error_code,
    IntegrationAccount.created_by,
    IntegrationAccount.external_ref,
    IntegrationAccount.meta,
    IntegrationAccount.created_at,
    IntegrationAccount.updated_at,
)


@functools.cache
def _listed_query(
    by_platform: bool, by_status: bool, after_cursor: bool, by_external_ref: bool = False
) -> Select[Any]:
    """`list_page_rows`' statement for one combination of filters, built once: values are
    bound at execution, so a request neither builds a statement nor computes its cache key.
    The same order and keyset as `keyset_page`."""
    account = IntegrationAccount
    query: Select[Any] = select(*LISTED_COLUMNS).where(
        account.company_id == bindparam("company_id")
    )
    if by_platform:
        query = query.where(account.platform == bindparam("platform"))
    if by_status:
        query = query.where(account.status == bindparam("status"))
    if by_external_ref:
        query = query.where(account.external_ref == bindparam("external_ref"))
    if after_cursor:
        stamp: BindParameter[Any] = bindparam("stamp")
        query = query.where(
            or_(
                account.created_at < stamp,
                and_(account.created_at == stamp, account.id < bindparam("last_id")),
            )
        )
    return query.order_by(account.created_at.desc(), account.id.desc()).limit(
        bindparam("limit", type_=Integer)
    )


async def list_page_rows(
    session: AsyncSession,
    company_id: str,
    *,
    platform: Platform | None,
    status: AccountStatus | None,
    cursor: str | None,
    limit: int,
    external_ref: str | None = None,
) -> list[Row[Any]]:
    """The company's accounts, newest first, as rows of `LISTED_COLUMNS`: without the ORM
    (no instances to build and track), keyset-paginated like `keyset_page` (one extra row to
    detect more)."""
    values: dict[str, Any] = {"company_id": company_id, "limit": limit + 1}
    if platform is not None:
        values["platform"] = platform
    if status is not None:
        values["status"] = status
    if external_ref is not None:
        values["external_ref"] = external_ref
    if cursor:
        values["stamp"], values["last_id"] = decode_cursor(cursor)
    query = _listed_query(
        platform is not None, status is not None, bool(cursor), external_ref is not None
    )
    connection = await session.connection()
    return list((await connection.execute(query, values)).all())


async def lock_by_id(
    session: AsyncSession, account_id: uuid.UUID, *, skip_locked: bool = False
) -> IntegrationAccount | None:
    """Internal (not company-scoped): the row under a lock for token work.

    PostgreSQL takes a row lock (`SKIP LOCKED` returns None when another replica holds it);
    SQLite has no row locks, the whole write transaction (`BEGIN IMMEDIATE`) is the lock.
    """
    query = (
        select(IntegrationAccount)
        .where(IntegrationAccount.id == account_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one_or_none()


async def get_by_id(session: AsyncSession, account_id: uuid.UUID) -> IntegrationAccount | None:
    """Internal (not company-scoped) read, for background work that already knows the id."""
    return await session.get(IntegrationAccount, account_id, populate_existing=True)


async def find_by_external_id(
    session: AsyncSession, company_id: str, platform: Platform, external_id: str
) -> list[IntegrationAccount]:
    query = select(IntegrationAccount).where(
        IntegrationAccount.company_id == company_id,
        IntegrationAccount.platform == platform,
        IntegrationAccount.external_id == external_id,
    )
    return list((await session.scalars(query)).all())


REFRESH = WorkQueue(
    table=cast(Table, IntegrationAccount.__table__),
    # A claim leases the accounts (`refresh_lease_until`), so passes on several replicas
    # take disjoint ones; the lease is never released: a refresh moves the account out of
    # "due", and one that failed is due again once it lapses. No attempts: the token
    # manager's row lock, not the claim, makes each refresh happen once.
    lease="refresh_lease_until",
    where=and_(
        IntegrationAccount.status == AccountStatus.connected,
        IntegrationAccount.refresh_token_ciphertext.is_not(None),
    ),
    order_by=(IntegrationAccount.id,),
)


async def release_refresh_claim(
    session: AsyncSession, account_id: uuid.UUID, lease_until: datetime
) -> None:
    """Internal: give back a refresh claim that did nothing (the account was busy or no
    longer due), so the next pass may take it; fenced by the lease the claim set."""
    await session.execute(
        update(IntegrationAccount)
        .where(
            IntegrationAccount.id == account_id,
            IntegrationAccount.refresh_lease_until == lease_until,
        )
        .values(refresh_lease_until=None)
    )


async def claim_due_for_refresh(
    session: AsyncSession,
    access_before: datetime,
    refresh_before: datetime,
    *,
    after: uuid.UUID | None,
    limit: int,
    now: datetime,
    lease_until: datetime,
) -> list[uuid.UUID]:
    """Internal: the next connected accounts, in id order after `after`, whose access token
    or refresh token is close to expiry and that no other pass holds, leased to the caller
    until `lease_until` (commit at once: the lease, not a row lock, keeps them the caller's
    while it refreshes them).
    """
    due = or_(
        IntegrationAccount.access_token_expires_at < access_before,
        IntegrationAccount.refresh_token_expires_at < refresh_before,
    )
    if after is not None:
        due = and_(due, IntegrationAccount.id > after)
    claimed = await REFRESH.claim(session, limit=limit, now=now, lease_until=lease_until, where=due)
    # A leased claim comes back in no order; the caller's cursor is the last id.
    return sorted(claim.id for claim in claimed)
