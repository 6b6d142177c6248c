"""Routes of ads accounts: advertisers, lead forms and lead backfills. Connect, the TikTok for
Business OAuth callback and disconnect are the connect routes' (`app.oauth`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, status

from app.ads import service
from app.ads.deps import AdsDep, BusinessDep
from app.ads.schemas import (
    AdvertiserOut,
    AdvertisersOut,
    BackfillJobOut,
    BackfillRequest,
    LeadFormsOut,
)
from app.api.deps import PrincipalDep, ReadSessionDep, SessionDep
from app.core.errors import error_responses
from app.core.http import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/accounts", tags=["ads"])


@router.get(
    "/{account_id}/advertisers/",
    responses=error_responses(401, 403, 404, 409, 422),
    summary="The advertisers an ads account connected, with their lead webhook subscription",
)
async def list_advertisers(
    account_id: uuid.UUID, session: ReadSessionDep, principal: PrincipalDep
) -> AdvertisersOut:
    rows = await service.list_advertisers(session, principal, account_id)
    return AdvertisersOut(items=[AdvertiserOut.model_validate(row) for row in rows])


@router.get(
    "/{account_id}/lead-forms/",
    responses=error_responses(401, 403, 404, 409, 422, 429, 502, 503),
    summary="The Instant Forms of the account's advertisers (read from TikTok)",
)
async def list_lead_forms(
    account_id: uuid.UUID, principal: PrincipalDep, ads: AdsDep, _business: BusinessDep
) -> LeadFormsOut:
    # No request session: TikTok is called here, outside any transaction.
    return LeadFormsOut(items=await ads.lead_forms(principal, account_id))


@router.post(
    "/{account_id}/leads/backfill/",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 409, 422, 503),
    summary="Recover missed leads from TikTok's lead export (runs in the background)",
    description="Queues a job that exports every form of every advertiser of the account "
    "(or the one `form_id`) in every lead region and stores the leads not stored yet. "
    "While a backfill of the account is queued or running, that job is answered.",
)
async def start_backfill(
    account_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    ads: AdsDep,
    _business: BusinessDep,
    body: Annotated[BackfillRequest | None, Body()] = None,
) -> BackfillJobOut:
    form_id = body.form_id if body is not None else None
    job = await ads.start_backfill(session, principal, account_id, form_id)
    return BackfillJobOut.model_validate(job)


@router.get(
    "/{account_id}/leads/backfill/{job_id}/",
    responses=error_responses(401, 403, 404, 422),
    summary="A backfill job and its progress",
)
async def get_backfill(
    account_id: uuid.UUID, job_id: uuid.UUID, session: ReadSessionDep, principal: PrincipalDep
) -> BackfillJobOut:
    job = await service.get_backfill(session, principal, account_id, job_id)
    return BackfillJobOut.model_validate(job)
