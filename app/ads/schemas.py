"""API shapes of ads accounts: advertisers, lead forms, backfill jobs, reconciliation
reports, lead probes. Ids are strings."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.ads.models import BackfillStatus, ReconciliationStatus
from app.core.db import TIKTOK_ID_LENGTH
from app.leads.models import ProbeStatus


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


class ReconciliationError(BaseModel):
    code: str = Field(description="The error code (TikTok's, mapped) or `export_failed`")
    message: str
    form_id: str | None = Field(default=None, description="The export that failed, if one did")
    region: str | None = Field(default=None, description="Its region (null: the default one)")
    log_id: str | None = Field(default=None, description="TikTok's log id, for its support")


class ReconciliationOut(BaseModel):
    """One run of the lead reconciliation of an advertiser of the account."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID
    advertiser_id: str = Field(examples=["7131000000000000101"])
    status: ReconciliationStatus
    forms_checked: int = Field(description="Forms whose every region was compared")
    regions_checked: int = Field(description="Exports compared: (form, region) pairs")
    leads_seen: int = Field(description="Leads in TikTok's exports")
    gaps_found: int = Field(description="Of those, leads that were not stored: a lost webhook each")
    gaps_filled: int = Field(description="Of those, leads this run stored (and announced)")
    gap_lead_ids: list[str] = Field(description="TikTok's ids of the missing leads (first 100)")
    errors: list[ReconciliationError] = Field(description="Exports (or the run) that failed")
    created_at: datetime
    finished_at: datetime | None


class ProbeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form_id: str = Field(
        pattern=r"^[0-9]+$",
        max_length=TIKTOK_ID_LENGTH,
        description="The form (TikTok's page_id) to submit a test lead on",
    )
    deliver: bool = Field(
        default=False,
        description="Announce the test lead to the CRM (`lead.created`) and wait for its "
        "acknowledgement; by default a test lead is stored, marked, and not announced",
    )


class LeadProbeOut(BaseModel):
    """An end-to-end probe: a test lead made at TikTok, and how it reached us."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID
    advertiser_id: str
    form_id: str
    tiktok_lead_id: str | None = Field(description="TikTok's id of the test lead")
    status: ProbeStatus = Field(
        description="arrived: stored; missing: never arrived in time; failed: TikTok did not "
        "make the test lead (`error`)"
    )
    arrived_by: str | None = Field(
        description="webhook, or reconciliation when only the lead export held it"
    )
    stored_seconds: float | None = Field(description="From the probe's start to storage")
    deliver: bool
    crm_acknowledged: bool = Field(description="The CRM acknowledged its `lead.created`")
    acknowledged_seconds: float | None = Field(description="From the probe's start")
    mock_deleted: bool = Field(description="The test lead was deleted at TikTok afterwards")
    error: str | None
    created_at: datetime
    finished_at: datetime | None
