"""Routes for leads: the CRM's pull API and dead letters, and TikTok's lead webhook."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime

from app.api.deps import PrincipalDep, ReadSessionDep, SessionDep, SettingsDep
from app.core.db import TIKTOK_ID_LENGTH
from app.core.errors import error_responses
from app.core.http import API_PREFIX
from app.core.openapi import WEBHOOKS_TAG
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, page_of
from app.core.params import ISO_8601
from app.events.models import DeliveryStatus
from app.leads import service, stats
from app.leads.schemas import (
    CrmDeliveryOut,
    LeadDetailOut,
    LeadgenPayload,
    LeadOut,
    LeadStatsOut,
    LeadWebhookAck,
)
from app.leads.webhook_auth import OPEN_SIGNATURE_HEADER, TOKEN_PARAMETER, LeadWebhookDep
from app.webhooks.signature import SIGNATURE_HEADER

router = APIRouter(
    prefix=f"{API_PREFIX}/leads",
    tags=["leads"],
    responses=error_responses(401, 403, 422),
)
webhook_router = APIRouter(prefix=f"{API_PREFIX}/webhooks", tags=[WEBHOOKS_TAG])

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]
CursorQuery = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
TikTokIdQuery = Annotated[str | None, Query(max_length=TIKTOK_ID_LENGTH)]


@router.get(
    "/",
    summary="The company's leads, newest submission first",
    description="Keyset-paginated over (`submitted_at`, `id`), newest first. Leads of an "
    "advertiser no company has connected yet are not listed until it is connected.",
)
async def list_leads(
    session: ReadSessionDep,
    principal: PrincipalDep,
    since: Annotated[
        AwareDatetime | None,
        ISO_8601,
        Query(description="Submitted at or after (ISO 8601 with zone)"),
    ] = None,
    form_id: TikTokIdQuery = None,
    campaign_id: TikTokIdQuery = None,
    advertiser_id: TikTokIdQuery = None,
    has_email: Annotated[
        bool | None, Query(description="Only leads with (or without) an email")
    ] = None,
    has_phone: Annotated[
        bool | None, Query(description="Only leads with (or without) a phone")
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[LeadOut]:
    rows = await service.list_leads(
        session,
        principal,
        since=since,
        form_id=form_id,
        campaign_id=campaign_id,
        advertiser_id=advertiser_id,
        has_email=has_email,
        has_phone=has_phone,
        cursor=cursor,
        limit=limit,
    )
    return page_of(rows, limit, LeadOut, stamp="submitted_at", convert=LeadOut.from_lead)


# Declared before `/{lead_id}/` so that path does not capture it.
@router.get(
    "/stats/",
    summary="Lead freshness over the last day: time to storage and to the CRM, backlog",
    description="From the company's leads stored over the last day: the time from TikTok's "
    "`create_time` to our storage and to the CRM's acknowledgement (p50, p99), how many came "
    "by webhook, backfill and reconciliation, and the lead deliveries the CRM has not "
    "acknowledged yet (how many, the oldest's age).",
)
async def lead_stats(session: ReadSessionDep, principal: PrincipalDep) -> LeadStatsOut:
    return await stats.freshness(session, principal)


@router.get("/deliveries/", summary="CRM deliveries (dead letters with `status=dead`)")
async def list_deliveries(
    session: ReadSessionDep,
    principal: PrincipalDep,
    status: DeliveryStatus | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[CrmDeliveryOut]:
    rows = await service.list_deliveries(
        session, principal, status=status, cursor=cursor, limit=limit
    )
    return page_of(rows, limit, CrmDeliveryOut)


@router.post(
    "/deliveries/{delivery_id}/replay/",
    responses=error_responses(404, 409),
    summary="Queue a dead delivery again (attempts reset)",
)
async def replay_delivery(
    delivery_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> CrmDeliveryOut:
    return CrmDeliveryOut.from_delivery(await service.replay(session, principal, delivery_id))


@router.get("/{lead_id}/", responses=error_responses(404), summary="Read a lead")
async def get_lead(
    lead_id: uuid.UUID, session: ReadSessionDep, principal: PrincipalDep
) -> LeadDetailOut:
    return LeadDetailOut.from_lead(await service.get_lead(session, principal, lead_id))


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` inlined, so it stands alone in the document."""
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(definitions[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    result: dict[str, Any] = inline(schema)
    return result


# The body and credentials are read raw (the HMAC covers the exact bytes, and ids must not
# pass through a float), so FastAPI cannot infer them; they are declared for the document.
_OPENAPI_REQUEST: dict[str, Any] = {
    "parameters": [
        {
            "name": OPEN_SIGNATURE_HEADER,
            "in": "header",
            "required": False,
            "description": "hex HMAC-SHA256(TIKTOK_BUSINESS_SECRET, raw body)",
            "schema": {"type": "string"},
        },
        {
            "name": SIGNATURE_HEADER,
            "in": "header",
            "required": False,
            "description": '`t=<unix ts>,s=<hex HMAC-SHA256(TIKTOK_BUSINESS_SECRET, "t.body")>`',
            "schema": {"type": "string"},
        },
        {
            "name": TOKEN_PARAMETER,
            "in": "query",
            "required": False,
            "description": "LEADGEN_WEBHOOK_TOKEN, when registered in the callback URL",
            "schema": {"type": "string"},
        },
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline_refs(LeadgenPayload.model_json_schema())}
        },
    },
}


@webhook_router.post(
    "/tiktok-leadgen/",
    summary="TikTok for Business lead webhooks (Instant Forms)",
    description="Authenticated by `X-Open-Signature`, `TikTok-Signature` or the URL's token. "
    "The delivery and its leads are committed before the 200; a lead already stored is not "
    "stored again. A body that can never be used is kept as `rejected` and answered 200, so "
    "TikTok stops retrying it; a database failure is a 5xx, so TikTok retries.",
    responses=error_responses(401, 413, 500, 503),
    openapi_extra=_OPENAPI_REQUEST,
)
async def receive_lead_webhook(
    webhook: LeadWebhookDep, session: SessionDep, settings: SettingsDep, request: Request
) -> LeadWebhookAck:
    receipt = await service.receive_webhook(
        session,
        webhook.body,
        webhook.auth_method,
        settings,
        signature_form=webhook.signature_form,
    )
    if receipt.pending:
        # Committed first: the session dependency commits before the answer is sent, and
        # the woken job's claim waits for this write transaction.
        await session.commit()
        request.app.state.webhook_inbox.notify()
    return receipt.ack
