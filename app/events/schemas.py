"""What the events API answers, and the body of every event the CRM receives.

Every delivery's body is `{"type", "timestamp", "data"}`; `data` has one shape per event type
(below, and `LeadOut` for `lead.created`). Those shapes are declared as the OpenAPI
document's `webhooks` (`app.events.endpoints.webhooks_router`), so generated clients type
them. The shapes restate what `app.accounts.lifecycle` and `app.advertisers.subscriptions`
write, in words a client reads (this package sits below both and imports neither).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

from app.core.params import ISO_8601
from app.events.models import CrmDelivery, DeliveryStatus, Event, EventType

# ---- the events' data ---------------------------------------------------------------------


class AccountEventData(BaseModel):
    """The account as it is after the change."""

    account_id: uuid.UUID
    platform: Literal["tiktok", "tiktok_ads"] = Field(
        description="`tiktok` (Login Kit) or `tiktok_ads` (TikTok for Business)"
    )
    status: Literal["pending", "connected", "disconnected", "reauth_required", "error"]
    external_id: str | None = Field(
        description="TikTok's id of the account (open_id, or core user)"
    )
    display_name: str | None


class AccountConnectedData(AccountEventData):
    scopes: list[str] = Field(description="The scopes the user granted")


class AccountDisconnectedData(AccountEventData):
    reason: Literal["user", "tiktok_revoked", "deleted"] = Field(
        description="`user`: disconnected through the API; `tiktok_revoked`: the user removed "
        "the app at TikTok; `deleted`: the account is being deleted (`account.deleted` follows)"
    )
    tiktok_reason: str | None = Field(
        default=None,
        description="With `tiktok_revoked`: TikTok's reason code, in words",
        examples=["user_disconnected_from_tiktok_app"],
    )


class AccountReauthRequiredData(AccountEventData):
    error_code: str = Field(
        description="Why the tokens are no longer usable", examples=["refresh_token_invalid"]
    )


class AccountDeletedData(AccountEventData):
    pass


class LeadsSubscriptionLostData(BaseModel):
    account_id: uuid.UUID
    advertiser_id: str = Field(examples=["7000000000000000001"])
    reason: str = Field(description="The error that stopped the subscription")


class LeadsSubscriptionRestoredData(BaseModel):
    account_id: uuid.UUID
    advertiser_id: str = Field(examples=["7000000000000000001"])
    subscription_id: str
    backfill_advised: bool = Field(
        description="Leads submitted while it was gone arrive only by a backfill"
    )


EVENT_DATA: dict[EventType, type[BaseModel]] = {
    EventType.account_connected: AccountConnectedData,
    EventType.account_disconnected: AccountDisconnectedData,
    EventType.account_reauth_required: AccountReauthRequiredData,
    EventType.account_deleted: AccountDeletedData,
    EventType.leads_subscription_lost: LeadsSubscriptionLostData,
    EventType.leads_subscription_restored: LeadsSubscriptionRestoredData,
}

EVENT_DESCRIPTIONS: dict[EventType, str] = {
    EventType.account_connected: "An OAuth connect (or reconnect) completed.",
    EventType.account_disconnected: "The account's tokens are gone: disconnected by the user, "
    "removed at TikTok, or deleted.",
    EventType.account_reauth_required: "TikTok refused the account's tokens (or they cannot be "
    "read): the user must reconnect it.",
    EventType.account_deleted: "The account was deleted.",
    EventType.leads_subscription_lost: "An advertiser's lead webhooks stopped and cannot be "
    "re-subscribed until the account is reconnected.",
    EventType.leads_subscription_restored: "An advertiser's lead webhook subscription was gone "
    "at TikTok and was re-created; run a backfill for the leads of the gap.",
    EventType.lead_created: "A new lead belongs to the company (`data` is `GET /leads/{id}/` "
    "without `raw`).",
}


def event_body(event_type: EventType, data: type[BaseModel]) -> type[BaseModel]:
    """The body the CRM receives for `event_type`: `{"type", "timestamp", "data"}`."""
    name = "".join(part.title() for part in event_type.value.replace(".", "_").split("_")) + "Event"
    literal: Any = Literal[event_type.value]  # one value, known at run time
    model: type[BaseModel] = create_model(
        name,
        __doc__=EVENT_DESCRIPTIONS[event_type],
        type=(literal, Field(description="The event type")),
        timestamp=(datetime, Field(description="When the event happened (UTC)")),
        data=(data, ...),
    )
    return model


# ---- the events API -----------------------------------------------------------------------


class EventOut(BaseModel):
    id: uuid.UUID = Field(description="Also the `webhook-id` of the event's CRM delivery")
    type: EventType
    timestamp: datetime = Field(description="When the event happened (its creation, UTC)")
    account_id: uuid.UUID | None
    data: dict[str, Any] = Field(description="As in the CRM delivery's body (see `webhooks`)")

    @classmethod
    def from_event(cls, event: Event) -> EventOut:
        return cls(
            id=event.id,
            type=event.type,
            timestamp=event.created_at,
            account_id=event.account_id,
            data=event.data,
        )


class EventFeed(BaseModel):
    items: list[EventOut]
    next_cursor: str | None = Field(
        description="Pass as `after` to read on (also once `has_more` is false: events that "
        "happen later follow it); null only when there were no events to read past"
    )
    has_more: bool = Field(description="More events are readable now")


class EventDeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="Also the `webhook-id` header of every attempt")
    event_id: uuid.UUID | None = Field(
        description="The event delivered (null for lead deliveries queued before every event "
        "was delivered)"
    )
    lead_id: uuid.UUID | None = Field(description="The lead, for `lead.created`")
    event_type: str = Field(examples=["account.connected"])
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    first_attempt_at: datetime | None
    last_status_code: int | None = Field(description="The CRM's last HTTP status")
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def from_delivery(cls, delivery: CrmDelivery) -> EventDeliveryOut:
        return cls.model_validate(delivery)


class RecoverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: Annotated[
        AwareDatetime,
        ISO_8601,
        Field(
            description="Dead deliveries of events created at or after this time are queued "
            "again (ISO 8601 with a zone)"
        ),
    ]


class RecoverOut(BaseModel):
    recovered: int = Field(description="How many dead deliveries were queued again")
