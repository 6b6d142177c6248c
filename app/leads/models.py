"""Lead tables: advertisers (who owns which leads), leads, CRM outbox. Raw lead webhooks
are rows of the webhook inbox (app.webhooks.models.LeadWebhookDelivery).

Every id TikTok sends is a string here: they are 19-digit integers that a float (and so a
JavaScript client) would corrupt.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, JSONType, TimestampMixin, utcnow
from app.core.sql import str_enum

TIKTOK_ID_LENGTH = 32
COMPANY_ID_LENGTH = 64
LABEL_LENGTH = 255


class LeadSource(enum.StrEnum):
    webhook = "webhook"
    backfill = "backfill"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # waiting for `next_attempt_at`
    delivering = "delivering"  # claimed by a worker until `lease_until`
    delivered = "delivered"
    dead = "dead"  # permanent refusal or retries exhausted; replayable


class TikTokAdvertiser(IdMixin, Base):
    """A TikTok for Business advertiser connected by a company (filled by the ads connect)."""

    __tablename__ = "tiktok_advertisers"
    __table_args__ = (Index("ix_tiktok_advertisers_company", "company_id"),)

    advertiser_id: Mapped[str] = mapped_column(String(TIKTOK_ID_LENGTH), unique=True)
    company_id: Mapped[str] = mapped_column(String(COMPANY_ID_LENGTH))
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integration_accounts.id", ondelete="CASCADE"), index=True
    )
    advertiser_name: Mapped[str | None] = mapped_column(String(LABEL_LENGTH))
    subscription_id: Mapped[str | None] = mapped_column(String(64))
    subscribed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class CrmDelivery(IdMixin, Base):
    """The outbox: one push of a lead event to the CRM. Its id is the `webhook-id`."""

    __tablename__ = "crm_lead_deliveries"
    __table_args__ = (
        # A lead's event is enqueued once, however many transactions try.
        UniqueConstraint("lead_id", "event_type"),
        Index("ix_crm_lead_deliveries_due", "status", "next_attempt_at"),
        Index("ix_crm_lead_deliveries_company_status", "company_id", "status", "created_at"),
    )

    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tiktok_leads.id", ondelete="CASCADE"))
    company_id: Mapped[str] = mapped_column(String(COMPANY_ID_LENGTH))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, 16), default=DeliveryStatus.pending
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    first_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
