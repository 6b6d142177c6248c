"""The `TikTokWebhookEvent` table: every distinct signed delivery, stored before the 200."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Enum, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, utcnow


class WebhookEventStatus(enum.StrEnum):
    received = "received"  # stored, waiting to be processed (or retried)
    processed = "processed"
    rejected = "rejected"  # signed but unusable; kept with the reason, never processed
    failed = "failed"  # processing kept failing; kept with the last reason


class TikTokWebhookEvent(IdMixin, Base):
    __tablename__ = "tiktok_webhook_events"
    __table_args__ = (Index("ix_tiktok_webhook_events_status_received", "status", "received_at"),)

    # SHA-256 of the canonical event (see app.webhooks.envelope): TikTok sends no event id.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str | None] = mapped_column(String(128))
    user_openid: Mapped[str | None] = mapped_column(String(255))
    client_key: Mapped[str | None] = mapped_column(String(255))
    create_time: Mapped[int | None] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[WebhookEventStatus] = mapped_column(
        # VARCHAR, no CHECK: adding a status needs no migration.
        Enum(
            WebhookEventStatus,
            native_enum=False,
            create_constraint=False,
            length=16,
            values_callable=lambda members: [member.value for member in members],
        ),
        default=WebhookEventStatus.received,
    )
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
