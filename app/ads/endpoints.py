"""Routes of ads accounts: advertisers, lead forms, lead backfills and reconciliations.
Connect, the TikTok for Business OAuth callback and disconnect are the connect routes'
(`app.oauth`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from app.ads import service
from app.ads.deps import AdsDep, BusinessDep
from app.ads.probe import ProbeRunner
from app.ads.schemas import (
    AdvertiserOut,
    AdvertisersOut,
    BackfillJobOut,
    BackfillRequest,
    LeadFormsOut,
    LeadProbeOut,
    ProbeRequest,
    ReconciliationOut,
)
from app.api.deps import PrincipalDep, ReadSessionDep, SessionDep
from app.core.errors import error_responses
from app.core.http import API_PREFIX
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, page_of

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


@router.get(
    "/{account_id}/leads/reconciliations/",
    responses=error_responses(401, 403, 404, 409, 422),
    summary="The account's lead reconciliation reports, newest first",
    description="Every `LEADS_RECONCILE_INTERVAL_SECONDS` each advertiser of the account "
    "has its lead export (every form, every region) compared with the stored leads; the "
    "missing ones (`gaps_found`: a lost webhook each) are stored and sent to the CRM "
    "(`gaps_filled`). Keyset-paginated: pass `next_cursor` as `cursor`.",
)
async def list_reconciliations(
    account_id: uuid.UUID,
    session: ReadSessionDep,
    principal: PrincipalDep,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = DEFAULT_LIMIT,
) -> Page[ReconciliationOut]:
    rows = await service.list_reconciliations(session, principal, account_id, cursor, limit)
    return page_of(rows, limit, ReconciliationOut)


@router.post(
    "/{account_id}/leads/probe/",
    responses=error_responses(401, 403, 404, 409, 422, 429, 502, 503),
    summary="Probe a form end to end: a test lead at TikTok, and how fast it reached us",
    description="Makes a test lead on the form with TikTok's mock-lead API, waits (up to "
    "`LEADS_PROBE_TIMEOUT_SECONDS`) for it to arrive by webhook, else reads it from the "
    "form's lead export, reports how long that took (and, with `deliver`, whether the CRM "
    "acknowledged it), then deletes the test lead at TikTok. The test lead is stored marked "
    "as a test and not announced as `lead.created` unless `deliver` is set.",
)
async def probe_form(
    account_id: uuid.UUID,
    body: ProbeRequest,
    principal: PrincipalDep,
    ads: AdsDep,
    _business: BusinessDep,
) -> LeadProbeOut:
    # No request session: TikTok is called here, outside any transaction.
    probe = await ProbeRunner(ads).run(principal, account_id, body.form_id, deliver=body.deliver)
    return LeadProbeOut.model_validate(probe)
