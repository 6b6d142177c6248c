"""What the leads API and the lead webhook answer, and the CRM delivery's `data`.

`LeadOut` is both the API's lead and the `data` of a `lead.created` delivery, so the CRM
reads one shape whichever way a lead reaches it. Every TikTok id is a string.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.events.models import CrmDelivery, DeliveryStatus
from app.leads.models import Lead, LeadSource


class LeadAnswer(BaseModel):
    field: Any = Field(description="The question, as TikTok labels it", examples=["email"])
    value: Any = Field(description="The answer, as received", examples=["jane@example.com"])


class LeadAttribution(BaseModel):
    advertiser_id: str | None = Field(examples=["7000000000000000001"])
    advertiser_name: str | None
    form_id: str | None = Field(description="TikTok's page_id", examples=["7100000000000000001"])
    form_name: str | None
    campaign_id: str | None
    campaign_name: str | None
    adgroup_id: str | None
    adgroup_name: str | None
    ad_id: str | None
    ad_name: str | None
    lead_source: str | None = Field(examples=["INSTANT_FORM"])


class LeadOut(BaseModel):
    id: uuid.UUID
    company_id: str | None = Field(description="Null until the advertiser is connected")
    tiktok_lead_id: str = Field(examples=["7126711421177430274"])
    submitted_at: datetime
    name: str | None
    first_name: str | None
    last_name: str | None
    email: str | None = Field(description="Trimmed and lowercased; null if not an address")
    phone: str | None = Field(description="E.164; null if not a valid number")
    answers: list[LeadAnswer] = Field(description="Every answer as received, in form order")
    attribution: LeadAttribution
    source: LeadSource
    is_test: bool = Field(
        default=False,
        description="A probe's test lead (`POST /accounts/{id}/leads/probe/`), made with "
        "TikTok's mock-lead API: not a real submission",
    )
    created_at: datetime

    @classmethod
    def from_lead(cls, lead: Lead) -> LeadOut:
        return cls(
            id=lead.id,
            company_id=lead.company_id,
            tiktok_lead_id=lead.tiktok_lead_id,
            submitted_at=lead.submitted_at,
            name=lead.name,
            first_name=lead.first_name,
            last_name=lead.last_name,
            email=lead.email,
            phone=lead.phone,
            answers=[LeadAnswer.model_validate(answer) for answer in lead.answers],
            attribution=LeadAttribution(
                advertiser_id=lead.advertiser_id,
                advertiser_name=lead.advertiser_name,
                form_id=lead.form_id,
                form_name=lead.form_name,
                campaign_id=lead.campaign_id,
                campaign_name=lead.campaign_name,
                adgroup_id=lead.adgroup_id,
                adgroup_name=lead.adgroup_name,
                ad_id=lead.ad_id,
                ad_name=lead.ad_name,
                lead_source=lead.lead_source,
            ),
            source=lead.source,
            is_test=bool(lead.is_test),
            created_at=lead.created_at,
        )


class LeadDetailOut(LeadOut):
    raw: dict[str, Any] = Field(description="TikTok's record as received, ids as strings")

    @classmethod
    def from_lead(cls, lead: Lead) -> LeadDetailOut:
        return cls(**dict(LeadOut.from_lead(lead)), raw=lead.raw)


class CrmDeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="Also the `webhook-id` header of every attempt")
    lead_id: uuid.UUID
    event_type: str = Field(examples=["lead.created"])
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    first_attempt_at: datetime | None
    last_status_code: int | None = Field(description="The CRM's last HTTP status")
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def from_delivery(cls, delivery: CrmDelivery) -> CrmDeliveryOut:
        return cls.model_validate(delivery)


class LeadWebhookAck(BaseModel):
    status: Literal["accepted", "ignored", "rejected"] = Field(
        description="`accepted`: the leads are stored; `ignored`: not a lead object; "
        "`rejected`: authenticated but unusable, stored with the reason (TikTok need not retry)"
    )
    entries: int = Field(default=0, description="Entries in the body")
    new: int = Field(default=0, description="Leads stored for the first time")
    reason: str | None = Field(default=None, description="Why it was ignored or rejected")


class LeadgenChange(BaseModel):
    field: str = Field(examples=["email"])
    value: Any = Field(examples=["jane@example.com"])


class LeadgenEntry(BaseModel):
    """One lead. Ids are unquoted integers of up to 19 digits (read exactly, kept as text)."""

    id: int = Field(examples=[7126711421177430274])
    lead_source: str | None = Field(default=None, examples=["INSTANT_FORM"])
    page_id: int | None = Field(default=None, description="The form id")
    page_name: str | None = None
    advertiser_id: int | None = None
    advertiser_name: str | None = None
    campaign_id: int | None = None
    campaign_name: str | None = None
    adgroup_id: int | None = None
    adgroup_name: str | None = None
    ad_id: int | None = None
    ad_name: str | None = None
    create_time: int | None = Field(default=None, description="Unix seconds")
    changes: list[LeadgenChange] = Field(default_factory=list)


class LeadgenPayload(BaseModel):
    """TikTok's lead webhook body (TIKTOK_API.md §4); parsed by hand to keep ids exact."""

    object: int = Field(description="1 = lead; other entity types are acknowledged, ignored")
    time: int | None = None
    entry: list[LeadgenEntry]


class LeadStatsOut(BaseModel):
    """Lead freshness over the last day (leads stored since `since`)."""

    since: datetime = Field(description="Start of the window (now minus one day)")
    leads: int = Field(description="Leads stored in the window")
    by_source: dict[str, int] = Field(
        description="Of those, by how they came: webhook, backfill, reconciliation (a lost "
        "webhook each)"
    )
    stored_seconds_p50: float | None = Field(
        description="TikTok's create_time to our storage, median (null: no lead)"
    )
    stored_seconds_p99: float | None
    acknowledged: int = Field(description="Leads of the window the CRM acknowledged")
    acknowledged_seconds_p50: float | None = Field(
        description="TikTok's create_time to the CRM's acknowledgement, median"
    )
    acknowledged_seconds_p99: float | None
    backlog: int = Field(description="Lead deliveries the CRM has not acknowledged yet")
    oldest_undelivered_at: datetime | None = Field(
        description="When the oldest of them was queued (null: none)"
    )
    oldest_undelivered_age_seconds: float | None
