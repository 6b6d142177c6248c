"""API shapes of integration accounts. Token columns are deliberately absent."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.accounts.models import AccountStatus, Platform


def _clean_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("name must not be blank")
    return value


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    name: str = Field(min_length=1, max_length=255)

    _name = field_validator("name")(_clean_name)


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)

    _name = field_validator("name")(_clean_name)


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    platform: Platform
    name: str
    status: AccountStatus
    external_id: str | None = Field(description="TikTok open_id once connected")
    username: str | None
    display_name: str | None
    avatar_url: str | None
    granted_scopes: list[str] = Field(validation_alias="scopes")
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    connected_at: datetime | None
    disconnected_at: datetime | None
    last_error_code: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
