"""The `IntegrationAccount` table: one linked TikTok (or TikTok for Business) identity."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdMixin, TimestampMixin


class Platform(enum.StrEnum):
    tiktok = "tiktok"
    tiktok_ads = "tiktok_ads"


class AccountStatus(enum.StrEnum):
    pending = "pending"
    connected = "connected"
    disconnected = "disconnected"
    reauth_required = "reauth_required"
    error = "error"


def _str_enum(enum_type: type[enum.StrEnum], length: int) -> Enum:
    # Stored as VARCHAR (no native enum, no CHECK) so adding a value needs no migration.
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class IntegrationAccount(IdMixin, TimestampMixin, Base):
    __tablename__ = "integration_accounts"
    __table_args__ = (
        Index("ix_integration_accounts_company_created", "company_id", "created_at"),
        Index("ix_integration_accounts_platform_external", "platform", "external_id"),
        Index("ix_integration_accounts_company_external_ref", "company_id", "external_ref"),
    )

    company_id: Mapped[str] = mapped_column(String(64))
    platform: Mapped[Platform] = mapped_column(_str_enum(Platform, 16))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[AccountStatus] = mapped_column(
        _str_enum(AccountStatus, 32), default=AccountStatus.pending
    )
    created_by: Mapped[str | None] = mapped_column(String(255))
    # The CRM's own labels for the account, stored and returned as given: its id for the
    # brand or team (`external_ref`, filterable) and a small JSON object (`metadata`; the
    # attribute cannot be called that: SQLAlchemy's declarative base owns the name).
    external_ref: Mapped[str | None] = mapped_column(String(255))
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata")

    # TikTok identity and display fields (open_id for Login Kit accounts).
    external_id: Mapped[str | None] = mapped_column(String(255))
    union_id: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(Text)
    avatar_large_url: Mapped[str | None] = mapped_column(Text)
    bio_description: Mapped[str | None] = mapped_column(Text)
    profile_deep_link: Mapped[str | None] = mapped_column(Text)
    is_verified: Mapped[bool | None]
    profile_synced_at: Mapped[datetime | None]
    # Lease taken by the background sync so replicas do not sync the same account at once.
    sync_lease_until: Mapped[datetime | None]

    # Tokens: ciphertext only (see app.core.crypto); never returned by the API.
    access_token_ciphertext: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[datetime | None]
    refresh_token_ciphertext: Mapped[str | None] = mapped_column(Text)
    refresh_token_expires_at: Mapped[datetime | None]
    token_version: Mapped[int] = mapped_column(default=0)
    granted_scopes: Mapped[str | None] = mapped_column(Text)
    # Lease taken by the background refresh's claim so replicas refresh disjoint accounts;
    # never released: a refresh moves the account out of "due", a failed one waits it out.
    refresh_lease_until: Mapped[datetime | None]

    connected_at: Mapped[datetime | None]
    disconnected_at: Mapped[datetime | None]
    last_error_code: Mapped[str | None] = mapped_column(String(64))

    @property
    def scopes(self) -> list[str]:
        return split_scopes(self.granted_scopes)


def split_scopes(granted: str | None) -> list[str]:
    """The `granted_scopes` column (comma-separated) as a list."""
    return [s for s in (granted or "").split(",") if s]
