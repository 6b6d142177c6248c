"""Stats snapshots: an account's TikTok counters over time, for charts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, utcnow


class StatsSnapshot(IdMixin, Base):
    __tablename__ = "tiktok_stats_snapshots"
    __table_args__ = (
        Index("ix_tiktok_stats_snapshots_account_captured", "account_id", "captured_at"),
    )

    company_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integration_accounts.id", ondelete="CASCADE")
    )
    follower_count: Mapped[int | None] = mapped_column(BigInteger)
    following_count: Mapped[int | None] = mapped_column(BigInteger)
    likes_count: Mapped[int | None] = mapped_column(BigInteger)
    video_count: Mapped[int | None] = mapped_column(BigInteger)
    captured_at: Mapped[datetime] = mapped_column(default=utcnow)
