"""The `events` table: the outbox of what the CRM is told (account lifecycle, leads).

A row is written in the same transaction as the change it reports, so an event exists if and
only if its change committed. Rows are never updated but for `seq`, their place in commit
order, set once by the sequencer; delivery state lives elsewhere.
`account_id` is deliberately not a foreign key: `account.deleted` outlives its account.

`crm_lead_deliveries` (`CrmDelivery`) is the CRM delivery outbox: one row per event pushed to
the CRM, written with its event (`app.events.outbox`) when delivery is configured for its
type; its id is the event's id and the `webhook-id` of every attempt. The table keeps its
name from when only leads were delivered; a lead's row also names the lead (`lead_id`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import COMPANY_ID_LENGTH, Base, IdMixin, utcnow
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
    __table_args__ = (
        Index("ix_events_company_created", "company_id", "created_at"),
        Index("ix_events_company_seq", "company_id", "seq"),
    )

    company_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[EventType] = mapped_column(str_enum(EventType, 64))
    account_id: Mapped[uuid.UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The event's place in commit order, given once it is committed (`sequence_events`);
    # null until then. The feed pages by it, so a late commit is never skipped.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # waiting for `next_attempt_at`
    delivering = "delivering"  # claimed by a worker until `lease_until`
    delivered = "delivered"
    dead = "dead"  # permanent refusal or retries exhausted; replayable


class CrmDelivery(IdMixin, Base):
    """The outbox: one push of an event to the CRM. Its id is the `webhook-id` (the event's
    id; rows enqueued before events were delivered have none)."""

    __tablename__ = "crm_lead_deliveries"
    __table_args__ = (
        # A lead's event is enqueued once, however many transactions try (NULLs, the other
        # events' rows, never conflict).
        UniqueConstraint("lead_id", "event_type"),
        Index("ix_crm_lead_deliveries_due", "status", "next_attempt_at"),
        Index("ix_crm_lead_deliveries_company_status", "company_id", "status", "created_at"),
    )

    event_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tiktok_leads.id", ondelete="CASCADE")
    )
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
