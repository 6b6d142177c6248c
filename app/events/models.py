"""The `events` table: the outbox of what the CRM is told (account lifecycle, leads).

A row is written in the same transaction as the change it reports, so an event exists if and
only if its change committed. Rows are never updated; delivery state lives elsewhere.
`account_id` is deliberately not a foreign key: `account.deleted` outlives its account.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, utcnow
from app.core.sql import str_enum


class EventType(enum.StrEnum):
    account_connected = "account.connected"
    account_disconnected = "account.disconnected"
    account_reauth_required = "account.reauth_required"
    account_deleted = "account.deleted"
    leads_subscription_lost = "leads.subscription_lost"
    leads_subscription_restored = "leads.subscription_restored"
    lead_created = "lead.created"


class Event(IdMixin, Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_company_created", "company_id", "created_at"),)

    company_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[EventType] = mapped_column(str_enum(EventType, 64))
    account_id: Mapped[uuid.UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
