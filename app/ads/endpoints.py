"""Routes of ads accounts: the TikTok for Business OAuth callback, advertisers, lead forms,
and lead backfills. Connect and disconnect are the accounts' own routes (`app.oauth`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Request, status
from fastapi.responses import RedirectResponse

from app.ads import service
from app.ads.connect import AdsCallbackParams, AdsCallbackService
from app.ads.schemas import (
    AdvertiserOut,
    AdvertisersOut,
    BackfillJobOut,
    BackfillRequest,
    LeadFormsOut,
)
from app.api.deps import AdsDep, BusinessDep, CodecDep, PrincipalDep, SessionDep, SettingsDep
from app.core.errors import error_responses
from app.core.http import API_PREFIX, query_parameter
from app.oauth.service import frontend_redirect
from app.oauth.state import OAUTH_PATH, cookie_name

router = APIRouter(prefix=f"{API_PREFIX}/accounts", tags=["ads"])


@router.get(
    "/oauth/callback/tiktok-ads/",
    response_class=RedirectResponse,
    status_code=302,
    summary="TikTok for Business redirects the browser here; always ends in a redirect to "
    "the frontend",
    openapi_extra={
        "parameters": [
            query_parameter("auth_code", "Authorization code (on approval)"),
            query_parameter("code", "The same code under its other name"),
            query_parameter("state", "The state of this connect attempt"),
            query_parameter("error", "Error code (on denial or failure)"),
            query_parameter("error_description", "Error text"),
        ]
    },
)
async def ads_oauth_callback(
    request: Request, settings: SettingsDep, codec: CodecDep, ads: AdsDep
) -> RedirectResponse:
    # Read by hand, not validated by FastAPI: whatever arrives, the browser must end on
    # the frontend, never on a 422 JSON page.
    query = request.query_params
    state = query.get("state")
    params = AdsCallbackParams(
        auth_code=query.get("auth_code") or query.get("code"),
        state=state,
        error=query.get("error"),
        error_description=query.get("error_description"),
    )
    cookie = request.cookies.get(cookie_name(state)) if state else None
    result = await AdsCallbackService(ads, codec).finish(params, cookie)
    redirect = RedirectResponse(frontend_redirect(settings, result), status_code=302)
    if state:
        redirect.delete_cookie(cookie_name(state), path=OAUTH_PATH)
    return redirect


@router.get(
    "/{account_id}/advertisers/",
    responses=error_responses(401, 403, 404, 409, 422),
    summary="The advertisers an ads account connected, with their lead webhook subscription",
)
async def list_advertisers(
    account_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
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
    account_id: uuid.UUID, job_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> BackfillJobOut:
    job = await service.get_backfill(session, principal, account_id, job_id)
    return BackfillJobOut.model_validate(job)
