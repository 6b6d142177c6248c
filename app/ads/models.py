"""Ads tables: lead backfill jobs and lead reconciliation reports. The advertisers, with
their subscription and reconciliation state, are `app.advertisers.models`."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import COMPANY_ID_LENGTH, TIKTOK_ID_LENGTH, Base, IdMixin, JSONType, utcnow
from app.core.sql import str_enum


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


class ReconciliationStatus(enum.StrEnum):
    running = "running"
    succeeded = "succeeded"  # every form and region compared
    partial = "partial"  # some exports failed (`errors`); the others were compared
    failed = "failed"  # nothing could be compared (`errors` says why)


class Reconciliation(IdMixin, Base):
    """One run of the lead reconciliation of an advertiser: TikTok's lead export of each of
    its forms in each region, compared with the stored leads; what was missing is stored."""

    __tablename__ = "tiktok_lead_reconciliations"
    __table_args__ = (
        Index("ix_tiktok_lead_reconciliations_account_created", "account_id", "created_at", "id"),
        Index("ix_tiktok_lead_reconciliations_advertiser_status", "advertiser_id", "status"),
    )

    company_id: Mapped[str] = mapped_column(String(COMPANY_ID_LENGTH))
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integration_accounts.id", ondelete="CASCADE")
    )
    advertiser_id: Mapped[str] = mapped_column(String(TIKTOK_ID_LENGTH))
    status: Mapped[ReconciliationStatus] = mapped_column(
        str_enum(ReconciliationStatus, 16), default=ReconciliationStatus.running
    )
    forms_checked: Mapped[int] = mapped_column(default=0)
    # Exports read: (form, region) pairs; a region TikTok refuses counts as checked.
    regions_checked: Mapped[int] = mapped_column(default=0)
    leads_seen: Mapped[int] = mapped_column(default=0)
    # Leads in the export that were not stored (each a lost webhook), and of those the
    # ones this run stored (a webhook may store one meanwhile).
    gaps_found: Mapped[int] = mapped_column(default=0)
    gaps_filled: Mapped[int] = mapped_column(default=0)
    # TikTok's ids of the missing leads (the first `MAX_GAP_IDS`).
    gap_lead_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # [{"form_id", "region", "code", "message"}] of the exports (or the run) that failed.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
