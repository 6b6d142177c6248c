"""API shapes of integration accounts. Token columns are deliberately absent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy import Row

from app.accounts.models import AccountStatus, Platform, split_scopes

# At least one visible character and no control characters (PostgreSQL cannot store NUL),
# declared in the schema so generated clients and fuzzers know the rule.
NAME_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
# Text without control characters (nor NUL, which PostgreSQL cannot store).
TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"

# The CRM's labels. Every bound is in the schema, so generated clients and fuzzers know it:
# at most 32 keys (letters, digits, `_ . : -`, up to 40), each value a string of up to 80
# characters, an integer a JavaScript number holds exactly, or a boolean; about 4 KiB at most.
METADATA_MAX_KEYS = 32
MetadataKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,40}$")]


def _integral(value: object) -> object:
    """JSON's `2.0` is an integer too (JSON Schema says so): kept as 2."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Strict: a string is never read as a number or a boolean ("1", "yes"), nor the reverse.
MetadataValue = (
    Annotated[str, StringConstraints(strict=True, max_length=80, pattern=TEXT_PATTERN)]
    | StrictBool
    | Annotated[StrictInt, BeforeValidator(_integral), Field(ge=-(2**53 - 1), le=2**53 - 1)]
)
Metadata = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(
        max_length=METADATA_MAX_KEYS,
        description="The CRM's own data about the account: a flat object of at most 32 keys "
        "(letters, digits, `_ . : -`, up to 40 characters); each value a string (up to 80 "
        "characters), an integer or a boolean. Replaced whole on update; null clears it.",
        json_schema_extra={"additionalProperties": False},
    ),
]
ExternalRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, pattern=NAME_PATTERN),
    Field(description="The CRM's own id for the brand or team this account belongs to"),
]


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
    metadata: Metadata | None = None
    external_ref: ExternalRef | None = None

    _name = field_validator("name")(_clean_name)


class AccountUpdate(BaseModel):
    """A PATCH: the fields sent change, the others stay. `name` cannot be cleared;
    `metadata` and `external_ref` are cleared by `null`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    name: (
        Annotated[str, Field(min_length=1, max_length=255, pattern=NAME_PATTERN)]
        | (SkipJsonSchema[None])
    ) = None
    metadata: Metadata | None = None
    external_ref: ExternalRef | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("name cannot be cleared")
        return _clean_name(value)

    @model_validator(mode="after")
    def _something(self) -> AccountUpdate:
        if not self.model_fields_set:
            raise ValueError("nothing to change: send name, metadata or external_ref")
        return self


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
    external_ref: str | None = Field(description="The CRM's own id for the brand or team")
    metadata: dict[str, str | bool | int] | None = Field(
        # The ORM attribute is `meta`; a listed row (Core) names the column `metadata`.
        validation_alias=AliasChoices("meta", "metadata"),
        description="The CRM's own data about the account",
    )
    created_at: datetime
    updated_at: datetime


def account_out_of_row(row: Row[Any]) -> AccountOut:
    """An account read as a row of `repository.LISTED_COLUMNS` (the list reads no ORM)."""
    values = dict(row._mapping)
    values["scopes"] = split_scopes(values.pop("granted_scopes"))
    return AccountOut.model_validate(values)
