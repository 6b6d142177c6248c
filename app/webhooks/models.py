"""The webhook inbox: every distinct authenticated delivery from TikTok, stored before the 200.

One table for both of TikTok's webhook families, told apart by `source`:
- `tiktok`: Login Kit / developer-portal events (`TikTokWebhookEvent`), deduplicated on the
  canonical event (TikTok sends no event id) and applied by the inbox job;
- `tiktok_leadgen`: TikTok for Business lead webhooks (`LeadWebhookDelivery`). Leads are
  deduplicated one by one on TikTok's lead id, so each delivery is its own row; its leads
  are stored with it, and the inbox job announces the new ones to the CRM.

Each family is a class over the same table (single-table inheritance), so a query on one
sees only its own rows; the inbox job claims across both.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, utcnow
from app.core.sql import str_enum


class WebhookSource(enum.StrEnum):
    tiktok = "tiktok"  # Login Kit / developer-portal webhooks
    tiktok_leadgen = "tiktok_leadgen"  # TikTok for Business lead webhooks (Instant Forms)


class WebhookEventStatus(enum.StrEnum):
    received = "received"  # stored, waiting to be processed (or retried)
    processed = "processed"
    ignored = "ignored"  # authenticated, but not something this service handles; kept
    rejected = "rejected"  # signed but unusable; kept with the reason, never processed
    failed = "failed"  # processing kept failing; kept with the last reason


class LeadWebhookAuth(enum.StrEnum):
    open_signature = "open_signature"  # X-Open-Signature: hex HMAC-SHA256 of the body
    tiktok_signature = "tiktok_signature"  # TikTok-Signature: t=,s= with the business secret
    url_token = "url_token"  # noqa: S105 - ?token= in the callback URL


class LeadSignatureForm(enum.StrEnum):
    """Which bytes a valid signature covered (TIKTOK_API.md §5); null for the URL token."""

    raw = "raw"  # the body exactly as received
    unicode_escaped = "unicode_escaped"  # the body with non-ASCII characters as \uXXXX


def _when_received(context: DefaultExecutionContext) -> datetime:
    """A new row is due when it was received (set by then: `received_at` comes first)."""
    parameters = context.get_current_parameters()  # type: ignore[no-untyped-call]
    received: datetime | None = parameters.get("received_at")
    return received or utcnow()


class InboxEntry(IdMixin, Base):
    __tablename__ = "tiktok_webhook_events"
    __table_args__ = (Index("ix_tiktok_webhook_events_status_received", "status", "received_at"),)
    __mapper_args__ = {"polymorphic_on": "source"}  # noqa: RUF012 - SQLAlchemy reads it

    source: Mapped[WebhookSource] = mapped_column(
        str_enum(WebhookSource, 32), server_default=WebhookSource.tiktok.value
    )
    # Unique per source's rule: the canonical event's SHA-256 for `tiktok` (see
    # app.webhooks.envelope); a random key, so each delivery is its own row, for
    # `tiktok_leadgen` (its leads are deduplicated one by one instead).
    dedupe_key: Mapped[str] = mapped_column(
        String(64), unique=True, default=lambda: uuid.uuid4().hex
    )
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[WebhookEventStatus] = mapped_column(
        str_enum(WebhookEventStatus, 16), default=WebhookEventStatus.received
    )
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a `received` row is due (again): its received time, then after each failed
    # attempt the inbox's backoff (`app.webhooks.repository.count_failure`).
    next_attempt_at: Mapped[datetime] = mapped_column(default=_when_received)
    processed_at: Mapped[datetime | None]


class TikTokWebhookEvent(InboxEntry):
    """A Login Kit / developer-portal event."""

    __mapper_args__ = {  # noqa: RUF012 - SQLAlchemy reads it
        "polymorphic_identity": WebhookSource.tiktok,
        "polymorphic_load": "inline",
    }

    event: Mapped[str | None] = mapped_column(String(128), use_existing_column=True)
    user_openid: Mapped[str | None] = mapped_column(String(255), use_existing_column=True)
    client_key: Mapped[str | None] = mapped_column(String(255), use_existing_column=True)
    create_time: Mapped[int | None] = mapped_column(BigInteger, use_existing_column=True)


class LeadWebhookDelivery(InboxEntry):
    """A lead webhook POST, stored raw in the transaction of its leads (`received` while
    its new leads still wait to be announced to the CRM)."""

    __mapper_args__ = {  # noqa: RUF012 - SQLAlchemy reads it
        "polymorphic_identity": WebhookSource.tiktok_leadgen,
        "polymorphic_load": "inline",
    }

    auth_method: Mapped[LeadWebhookAuth | None] = mapped_column(
        str_enum(LeadWebhookAuth, 32), use_existing_column=True
    )
    signature_form: Mapped[LeadSignatureForm | None] = mapped_column(
        str_enum(LeadSignatureForm, 16), use_existing_column=True
    )
    entry_count: Mapped[int | None] = mapped_column(use_existing_column=True)
    new_lead_count: Mapped[int | None] = mapped_column(use_existing_column=True)
