"""The advertiser table: one row per connected advertiser, with its lead webhook
subscription, the subscription checker's state for it and the lead reconciliation's."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import (
    COMPANY_ID_LENGTH,
    LABEL_LENGTH,
    TIKTOK_ID_LENGTH,
    Base,
    IdMixin,
    utcnow,
)


class TikTokAdvertiser(IdMixin, Base):
    """A TikTok for Business advertiser connected by a company (linked by the ads connect)."""

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
    # The subscription checker's: when it last saw the subscription alive at TikTok; its
    # lease while it checks (after a failure: when to try again); why the last check failed.
    checked_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(64))
    # Lead reconciliation's (`app.ads.reconcile`): when the next run is due (null: one
    # interval after `created_at`), its lease while it runs, when the last one finished.
    reconcile_due_at: Mapped[datetime | None]
    reconcile_lease_until: Mapped[datetime | None]
    reconciled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
