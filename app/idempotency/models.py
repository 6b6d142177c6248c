"""The `idempotency_keys` table: one row per (company, key), holding the first answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, utcnow


class IdempotencyKey(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("company_id", "key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    company_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the operation and its canonical body: the same key for another request is
    # refused rather than answered with someone else's result.
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The first answer, stored in the transaction of its effects (null only until then).
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
