"""Lead tables: leads and the CRM outbox. Who owns which leads is the advertisers'
(`app.advertisers.models`); raw lead webhooks are rows of the webhook inbox
(app.webhooks.models.LeadWebhookDelivery).

Every id TikTok sends is a string here: they are 19-digit integers that a float (and so a
JavaScript client) would corrupt.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import (
    COMPANY_ID_LENGTH,
    LABEL_LENGTH,
    TIKTOK_ID_LENGTH,
    Base,
    IdMixin,
    JSONType,
    TimestampMixin,
)
from app.core.sql import str_enum

# The CRM delivery outbox is the events' (every event type, leads' among them); named here too
# for the code that knew it as the leads' own.

__all__ = ["Lead", "LeadProbe", "LeadSource", "ProbeStatus"]


class LeadSource(enum.StrEnum):
    webhook = "webhook"
    backfill = "backfill"
    # Found missing by a scheduled comparison with TikTok's lead export (a lost webhook).
    reconciliation = "reconciliation"


class Lead(IdMixin, TimestampMixin, Base):
    __tablename__ = "tiktok_leads"
    __table_args__ = (
        Index("ix_tiktok_leads_company_submitted", "company_id", "submitted_at", "id"),
        Index("ix_tiktok_leads_company_form", "company_id", "form_id", "submitted_at"),
        Index("ix_tiktok_leads_company_campaign", "company_id", "campaign_id", "submitted_at"),
        # Attaching an advertiser's leads, and the advertiser filter (one company each).
        Index("ix_tiktok_leads_advertiser", "advertiser_id", "submitted_at"),
    )

    # Null until the lead's advertiser is connected by a company (then attach_unassigned).
    company_id: Mapped[str | None] = mapped_column(String(COMPANY_ID_LENGTH))
    tiktok_lead_id: Mapped[str] = mapped_column(String(TIKTOK_ID_LENGTH), unique=True)
    advertiser_id: Mapped[str | None] = mapped_column(String(TIKTOK_ID_LENGTH))
    advertiser_name: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    form_id: Mapped[str | None] = mapped_column(String(TIKTOK_ID_LENGTH))
    form_name: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    campaign_id: Mapped[str | None] = mapped_column(String(TIKTOK_ID_LENGTH))
    campaign_name: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    adgroup_id: Mapped[str | None] = mapped_column(String(TIKTOK_ID_LENGTH))
    adgroup_name: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    ad_id: Mapped[str | None] = mapped_column(String(TIKTOK_ID_LENGTH))
    ad_name: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    lead_source: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime]
    name: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    first_name: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    last_name: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    email: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    phone: Mapped[str | None] = mapped_column(String(32))
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    raw: Mapped[dict[str, Any]]
    source: Mapped[LeadSource] = mapped_column(str_enum(LeadSource, 16))
    # The lead webhook delivery (inbox row) that first stored it; its inbox pass announces it.
    webhook_event_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # A probe's test lead (`LeadProbe`): never announced as `lead.created` unless the probe
    # asked, and left out of the freshness figures.
    is_test: Mapped[bool] = mapped_column(default=False, server_default=false())


class ProbeStatus(enum.StrEnum):
    waiting = "waiting"  # the test lead is made; waiting for it to arrive
    arrived = "arrived"  # stored (by webhook, or read from the export)
    missing = "missing"  # never arrived within the probe's time
    failed = "failed"  # TikTok refused to make the test lead (`error`)


class LeadProbe(IdMixin, Base):
    """An end-to-end probe of a form: a test lead made with TikTok's mock-lead API, how long
    it took to reach us (and the CRM), then deleted at TikTok."""

    __tablename__ = "tiktok_lead_probes"
    __table_args__ = (
        Index("ix_tiktok_lead_probes_form_status", "form_id", "status"),
        Index("ix_tiktok_lead_probes_account_created", "account_id", "created_at"),
    )

    company_id: Mapped[str] = mapped_column(String(COMPANY_ID_LENGTH))
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integration_accounts.id", ondelete="CASCADE")
    )
    advertiser_id: Mapped[str] = mapped_column(String(TIKTOK_ID_LENGTH))
    form_id: Mapped[str] = mapped_column(String(TIKTOK_ID_LENGTH))
    # TikTok's id of the test lead: from mock/create's answer, or from the lead itself.
    tiktok_lead_id: Mapped[str | None] = mapped_column(String(TIKTOK_ID_LENGTH))
    deliver: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ProbeStatus] = mapped_column(
        str_enum(ProbeStatus, 16), default=ProbeStatus.waiting
    )
    arrived_by: Mapped[str | None] = mapped_column(String(16))
    stored_seconds: Mapped[float | None]
    crm_acknowledged: Mapped[bool] = mapped_column(default=False)
    acknowledged_seconds: Mapped[float | None]
    mock_deleted: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
