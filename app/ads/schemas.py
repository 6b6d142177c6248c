"""API shapes of ads accounts: advertisers, lead forms, backfill jobs. Ids are strings."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.ads.models import BackfillStatus
from app.leads.models import TIKTOK_ID_LENGTH


class AdvertiserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    advertiser_id: str = Field(examples=["7131000000000000101"])
    advertiser_name: str | None
    subscription_id: str | None = Field(
        description="TikTok's lead webhook subscription; null until (re)subscribed"
    )
    subscribed_at: datetime | None


class AdvertisersOut(BaseModel):
    items: list[AdvertiserOut]


class LeadFormOut(BaseModel):
    advertiser_id: str = Field(examples=["7131000000000000101"])
    form_id: str = Field(description="TikTok's page_id", examples=["7100000000000000001"])
    title: str | None
    status: str | None = Field(examples=["PUBLISHED"])
    created_at: datetime | None


class LeadFormsOut(BaseModel):
    items: list[LeadFormOut]


class BackfillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]+$",
        max_length=TIKTOK_ID_LENGTH,
        description="Only this form (TikTok's page_id); default every form of every advertiser",
    )


class BackfillJobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID
    form_id: str | None
    status: BackfillStatus
    forms_total: int = Field(description="Forms to export (known once the job started)")
    forms_done: int
    leads_seen: int = Field(description="Leads in the exports so far")
    leads_created: int = Field(description="Of those, leads that were not stored yet")
    error: str | None = Field(description="Why the job failed")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
