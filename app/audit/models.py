"""The `IntegrationLog` table: the audit timeline of a company's integration accounts."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, utcnow


class LogLevel(enum.StrEnum):
    info = "info"
    warning = "warning"
    error = "error"


class IntegrationLog(IdMixin, Base):
    __tablename__ = "integration_logs"
    __table_args__ = (
        Index(
            "ix_integration_logs_company_account_created", "company_id", "account_id", "created_at"
        ),
    )

    company_id: Mapped[str | None] = mapped_column(String(64))
    # Kept when the account is deleted: the audit trail outlives the account.
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("integration_accounts.id", ondelete="SET NULL")
    )
    event: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16), default=LogLevel.info.value)
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
