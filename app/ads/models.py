"""Ads tables: lead backfill jobs and the subscription checker's per-advertiser bookkeeping.

`TikTokAdvertiser` (which advertiser a company connected) belongs to the leads domain
(`app.leads.models`); the checker keeps its own row per advertiser next to it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, JSONType, utcnow
from app.core.sql import str_enum
from app.leads.models import COMPANY_ID_LENGTH, TIKTOK_ID_LENGTH


class BackfillStatus(enum.StrEnum):
    queued = "queued"  # waiting for a worker
    running = "running"  # claimed by a worker until `lease_until`
    succeeded = "succeeded"
    failed = "failed"  # `error` says why


class BackfillJob(IdMixin, Base):
    """One backfill of an ads account's leads from TikTok's lead export."""

    __tablename__ = "tiktok_lead_backfills"
    __table_args__ = (
        Index("ix_tiktok_lead_backfills_due", "status", "created_at"),
        Index("ix_tiktok_lead_backfills_account_created", "account_id", "created_at"),
    )

    company_id: Mapped[str] = mapped_column(String(COMPANY_ID_LENGTH))
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integration_accounts.id", ondelete="CASCADE")
    )
    # One form (TikTok's page_id), or every form of every advertiser of the account.
    form_id: Mapped[str | None] = mapped_column(String(TIKTOK_ID_LENGTH))
    status: Mapped[BackfillStatus] = mapped_column(
        str_enum(BackfillStatus, 16), default=BackfillStatus.queued
    )
    forms_total: Mapped[int] = mapped_column(default=0)
    forms_done: Mapped[int] = mapped_column(default=0)
    leads_seen: Mapped[int] = mapped_column(default=0)
    leads_created: Mapped[int] = mapped_column(default=0)
    # "advertiser_id:form_id" of each finished form: a job resumed after a crash skips them.
    completed_forms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Claims so far; the claim number fences a worker whose lease lapsed.
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class AdvertiserSubscriptionCheck(Base):
    """When the checker last saw an advertiser's lead webhook subscription alive at TikTok."""

    __tablename__ = "tiktok_subscription_checks"

    advertiser_id: Mapped[str] = mapped_column(
        ForeignKey("tiktok_advertisers.advertiser_id", ondelete="CASCADE"), primary_key=True
    )
    checked_at: Mapped[datetime | None]
    # Held by the checker working on it; after a failure, when to try again.
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(64))
