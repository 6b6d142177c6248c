"""Routes for integration accounts: thin, they parse, call the service, return a schema."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.responses import Response

from app.accounts import service
from app.accounts.models import AccountStatus, Platform
from app.accounts.schemas import AccountCreate, AccountOut, AccountUpdate, account_out_of_row
from app.api.deps import PrincipalDep, ReadSessionDep, SessionDep
from app.audit import service as audit
from app.audit.schemas import LogEntryOut
from app.core.errors import error_responses
from app.core.http import API_PREFIX
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, page_of
from app.idempotency import service as idempotency
from app.idempotency.service import IdempotencyKeyHeader

router = APIRouter(
    prefix=f"{API_PREFIX}/accounts",
    tags=["accounts"],
    responses=error_responses(401, 403, 422),
)
LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]
CursorQuery = Annotated[str | None, Query(description="`next_cursor` of the previous page")]


@router.get("/", summary="List the company's integration accounts")
async def list_accounts(
    session: ReadSessionDep,
    principal: PrincipalDep,
    platform: Platform | None = None,
    status: AccountStatus | None = None,
    external_ref: Annotated[
        str | None, Query(max_length=255, description="Only accounts with this `external_ref`")
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[AccountOut]:
    rows = await service.list_page(
        session,
        principal,
        platform=platform,
        status=status,
        cursor=cursor,
        limit=limit,
        external_ref=external_ref,
    )
    return page_of(rows, limit, AccountOut, convert=account_out_of_row)


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountOut,
    summary="Create an account (pending)",
)
async def create_account(
    body: AccountCreate,
    session: SessionDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> AccountOut | Response:
    async def create() -> AccountOut:
        account = await service.create(
            session,
            principal,
            body.platform,
            body.name,
            metadata=body.metadata,
            external_ref=body.external_ref,
        )
        return AccountOut.model_validate(account)

    return await idempotency.once(
        session,
        principal.company_id,
        idempotency_key,
        operation="accounts.create",
        body=body,
        status_code=status.HTTP_201_CREATED,
        work=create,
    )


@router.get("/{account_id}/", responses=error_responses(404), summary="Read an account")
async def get_account(
    account_id: uuid.UUID, session: ReadSessionDep, principal: PrincipalDep
) -> AccountOut:
    return AccountOut.model_validate(await service.get(session, principal, account_id))


@router.patch(
    "/{account_id}/",
    responses=error_responses(404),
    summary="Rename an account, or change its metadata or external_ref",
)
async def update_account(
    account_id: uuid.UUID, body: AccountUpdate, session: SessionDep, principal: PrincipalDep
) -> AccountOut:
    changes = body.model_dump(include=body.model_fields_set)
    account = await service.update(session, principal, account_id, changes)
    return AccountOut.model_validate(account)


@router.get(
    "/{account_id}/logs/",
    responses=error_responses(404),
    summary="The account's audit timeline, newest first",
)
async def list_account_logs(
    account_id: uuid.UUID,
    session: ReadSessionDep,
    principal: PrincipalDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[LogEntryOut]:
    await service.get(session, principal, account_id)
    rows = await audit.list_for_account(session, principal.company_id, account_id, cursor, limit)
    return page_of(rows, limit, LogEntryOut)
