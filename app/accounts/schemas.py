"""API shapes of integration accounts. Token columns are deliberately absent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Row

from app.accounts.models import AccountStatus, Platform, split_scopes

# At least one visible character and no control characters (PostgreSQL cannot store NUL),
# declared in the schema so generated clients and fuzzers know the rule.
NAME_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"


def _clean_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("name must not be blank")
    # Control characters have no place in a name, and PostgreSQL cannot store NUL.
    if any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in value):
        raise ValueError("name must not contain control characters")
    return value


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Platform
    name: str = Field(min_length=1, max_length=255, pattern=NAME_PATTERN)

    _name = field_validator("name")(_clean_name)


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, pattern=NAME_PATTERN)

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


def account_out_of_row(row: Row[Any]) -> AccountOut:
    """An account read as a row of `repository.LISTED_COLUMNS` (the list reads no ORM)."""
    values = dict(row._mapping)
    values["scopes"] = split_scopes(values.pop("granted_scopes"))
    return AccountOut.model_validate(values)
