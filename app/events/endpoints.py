"""Routes for events: the company's event feed, its CRM deliveries and their recovery; and
the OpenAPI `webhooks` that type every event the CRM receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel

from app.api.deps import PrincipalDep, ReadSessionDep, SessionDep
from app.core.errors import error_responses
from app.core.http import API_PREFIX
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, page_of
from app.events import service
from app.events.models import DeliveryStatus, EventType
from app.events.schemas import (
    EVENT_DATA,
    EVENT_DESCRIPTIONS,
    EventDeliveryOut,
    EventFeed,
    RecoverIn,
    RecoverOut,
    event_body,
)

router = APIRouter(
    prefix=f"{API_PREFIX}/events",
    tags=["events"],
    responses=error_responses(401, 403, 422),
)

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]


@router.get(
    "/",
    summary="The company's events in commit order (a feed to catch up from)",
    description="In the order the events committed. Start without `after`, then pass the "
    "answer's `next_cursor` as `after`; keep the last cursor to resume later (it stays valid "
    "when `has_more` is false: newer events follow it). An event is listed once the "
    "sequencer has given it its place, about a second after it commits; places follow commit "
    "order, so resuming from a cursor never skips an event. Every event is also pushed to "
    "`CRM_WEBHOOK_URL`.",
)
async def list_events(
    session: ReadSessionDep,
    principal: PrincipalDep,
    after: Annotated[
        str | None, Query(description="`next_cursor` of the previous answer", max_length=512)
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> EventFeed:
    return await service.feed(session, principal, after=after, limit=limit)


@router.get(
    "/deliveries/",
    summary="The company's CRM deliveries, newest first (dead letters with `status=dead`)",
)
async def list_deliveries(
    session: ReadSessionDep,
    principal: PrincipalDep,
    event_type: EventType | None = None,
    status: DeliveryStatus | None = None,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page", max_length=512)
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[EventDeliveryOut]:
    rows = await service.list_deliveries(
        session, principal, event_type=event_type, status=status, cursor=cursor, limit=limit
    )
    return page_of(rows, limit, EventDeliveryOut)


@router.post(
    "/deliveries/recover/",
    summary="Queue every dead delivery since a time again (attempts reset)",
    description="Once the CRM is fixed: every dead delivery of the company's events created "
    "at or after `since` goes back to `pending`, due now, with a fresh retry window.",
)
async def recover_deliveries(
    session: SessionDep, principal: PrincipalDep, body: Annotated[RecoverIn, Body()]
) -> RecoverOut:
    return RecoverOut(recovered=await service.recover(session, principal, body.since))


def webhooks_router(lead_created_data: type[BaseModel]) -> APIRouter:
    """The OpenAPI 3.1 `webhooks`: one per event type, the body the CRM receives
    (`lead.created`'s `data` is the leads' schema, handed in: this package is below leads).
    Include it in `app.webhooks`."""
    webhooks = APIRouter()
    shapes = {**EVENT_DATA, EventType.lead_created: lead_created_data}
    for type in EventType:
        body = event_body(type, shapes[type])
        webhooks.add_api_route(
            type.value,
            _receiver(body),
            methods=["POST"],
            summary=f"{type.value} (POSTed to CRM_WEBHOOK_URL)",
            description=EVENT_DESCRIPTIONS[type]
            + " Signed with Standard Webhooks headers (`webhook-id`: the event id, "
            "`webhook-timestamp`, `webhook-signature`: one `v1,` signature per secret). "
            "Answer 2xx once stored.",
            operation_id=f"crmEvents.{_camel(type.value)}",
            tags=["crm-events"],
            status_code=200,
            response_description="Stored: any 2xx acknowledges the delivery",
            responses={
                "4XX": {
                    "description": "Not stored: 408, 425 and 429 are retried, any other 4xx "
                    "is permanent (the delivery is dead, recoverable)"
                },
                "5XX": {"description": "Not stored: retried on the schedule"},
            },
        )
    return webhooks


def _camel(name: str) -> str:
    words = name.replace(".", "_").split("_")
    return words[0] + "".join(word.title() for word in words[1:])


def _receiver(body: type[BaseModel]) -> Callable[..., Awaitable[None]]:
    """An endpoint whose request body is `body` (documentation only: the CRM implements
    it). Its annotation is set here, not written, so FastAPI reads the class itself."""

    async def receive(event: BaseModel) -> None:
        return None

    receive.__annotations__ = {"event": body, "return": None}
    return receive
