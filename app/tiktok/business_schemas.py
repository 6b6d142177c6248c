"""TikTok for Business (Marketing API v1.3) payloads as typed values.

Strict like `app.tiktok.schemas`: JSON types as sent, unknown keys ignored, a wrong shape
fails here and becomes an invalid response. Ids (advertiser, form, task, subscription) are
19-digit integers that TikTok sends quoted or not: they are kept as strings and never pass
through a float (a float id is rejected, not rounded).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

# `hide_input_in_errors`: a validation error must never echo a token it was given.
_WIRE = ConfigDict(frozen=True, strict=True, extra="ignore", hide_input_in_errors=True)
# The Marketing API's timestamp format ("2024-05-01 12:30:00", UTC).
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def _id_to_str(value: object) -> object:
    # A bool is an int in Python, but never an id: leave it for validation to reject.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _to_datetime(value: object) -> object:
    """Epoch seconds (number or digits) or TikTok's "YYYY-MM-DD HH:MM:SS" / ISO 8601, as UTC."""
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.isascii() and text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    try:
        parsed = datetime.strptime(text, _TIME_FORMAT)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return value  # strict validation rejects it
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


BusinessId = Annotated[str, BeforeValidator(_id_to_str), Field(pattern=r"^[0-9]{1,24}$")]
BusinessTime = Annotated[datetime, BeforeValidator(_to_datetime)]


class BusinessToken(BaseModel):
    """`data` of oauth2/access_token/ and oauth2/refresh_token/.

    Public sources disagree on the token model (TIKTOK_API.md §5): a long-term token (no
    `expires_in`, no refresh token), or an access token with `expires_in` (about 24 h) and a
    `refresh_token` (about a year). Whatever TikTok sends is kept: no `expires_in` means the
    token does not expire.
    """

    model_config = ConfigDict(**_WIRE, validate_by_name=True, validate_by_alias=True)

    access_token: SecretStr = Field(min_length=1)
    advertiser_ids: list[BusinessId] = Field(default_factory=list)
    # Opaque permission numbers TikTok grants the app; kept for the record.
    scope: list[int] = Field(default_factory=list)
    # Seconds from now; absent, null or 0 for a long-term token.
    expires_in: int | None = Field(default=None, ge=0)
    refresh_token: SecretStr | None = Field(default=None, min_length=1)
    refresh_expires_in: int | None = Field(
        default=None, ge=0, validation_alias="refresh_token_expires_in"
    )

    @field_validator("expires_in", "refresh_expires_in")
    @classmethod
    def _zero_is_no_expiry(cls, value: int | None) -> int | None:
        # A lifetime of 0 cannot mean "expired on arrival": read it as "does not expire".
        return value or None

    @property
    def scopes(self) -> list[str]:
        """The permission numbers as text, as an account stores its granted scopes."""
        return [str(number) for number in self.scope]


class Advertiser(BaseModel):
    model_config = _WIRE

    advertiser_id: BusinessId
    advertiser_name: str | None = None


class AdvertiserList(BaseModel):
    """`data` of oauth2/advertiser/get/."""

    model_config = ConfigDict(**_WIRE, validate_by_alias=True)

    advertisers: list[Advertiser] = Field(default_factory=list, validation_alias="list")


class LeadForm(BaseModel):
    """An Instant Form; TikTok calls it a page and its id `page_id`."""

    model_config = _WIRE

    page_id: BusinessId
    title: str | None = None
    status: str | None = None
    create_time: BusinessTime | None = None


class PageInfo(BaseModel):
    model_config = _WIRE

    page: int = Field(ge=1)
    page_size: int | None = None
    total_number: int = Field(ge=0)
    total_page: int = Field(ge=0)


class LeadFormList(BaseModel):
    """`data` of page/get/."""

    model_config = ConfigDict(**_WIRE, validate_by_alias=True)

    forms: list[LeadForm] = Field(default_factory=list, validation_alias="list")
    page_info: PageInfo


class LeadFormPage(BaseModel):
    """One page of an advertiser's lead forms."""

    model_config = ConfigDict(frozen=True)

    forms: list[LeadForm]
    page: int
    total_page: int
    total_number: int


class LeadTaskCreated(BaseModel):
    """`data` of page/lead/task/ without a task_id."""

    model_config = _WIRE

    task_id: BusinessId


class LeadTaskStatus(BaseModel):
    """`data` of page/lead/task/ with a task_id: CREATED, RUNNING, SUCCEED or FAILED."""

    model_config = _WIRE

    status: str = Field(min_length=1)


class Subscribed(BaseModel):
    """`data` of subscription/subscribe/."""

    model_config = _WIRE

    subscription_id: BusinessId


class LeadSubscription(BaseModel):
    """A lead webhook subscription; TikTok's `subscription_detail` is flattened into it."""

    model_config = _WIRE

    subscription_id: BusinessId
    advertiser_id: BusinessId | None = None
    page_id: BusinessId | None = None
    callback_url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _flatten_detail(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        detail = value.get("subscription_detail")
        flat: dict[str, Any] = {k: v for k, v in value.items() if k != "subscription_detail"}
        if isinstance(detail, dict):
            for key in ("advertiser_id", "page_id"):
                # TikTok writes "no form" as absent, null or 0: all mean every form.
                if detail.get(key) not in (None, "", 0, "0"):
                    flat.setdefault(key, detail[key])
        return flat


class SubscriptionList(BaseModel):
    """`data` of subscription/get/."""

    model_config = ConfigDict(**_WIRE, validate_by_alias=True)

    subscriptions: list[LeadSubscription] = Field(default_factory=list, validation_alias="list")
