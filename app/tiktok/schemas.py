"""TikTok's payloads as typed values: the token set, the user, videos and video pages.

The models validate TikTok's JSON strictly (JSON types as sent, unknown keys ignored), so a
wrong shape fails here and the client reports it as an invalid response. Ids are int64 and
arrive unquoted: they are kept as strings and never pass through a float.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator

# `hide_input_in_errors`: a validation error must never echo a token it was given.
_WIRE = ConfigDict(frozen=True, strict=True, extra="ignore", hide_input_in_errors=True)


def _int_id_to_str(value: object) -> object:
    # A bool is an int in Python, but never an id: leave it for validation to reject.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


TikTokId = Annotated[str, BeforeValidator(_int_id_to_str), Field(min_length=1)]


class TokenSet(BaseModel):
    """A successful token response (code exchange or refresh). The tokens print masked."""

    model_config = ConfigDict(**_WIRE, validate_by_name=True, validate_by_alias=True)

    access_token: SecretStr = Field(min_length=1)
    refresh_token: SecretStr = Field(min_length=1)
    expires_in: int
    refresh_expires_in: int
    open_id: str = Field(min_length=1)
    # TikTok sends the granted scopes as one comma-separated `scope` string.
    scopes: list[str] = Field(default_factory=list, validation_alias="scope")
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret

    @field_validator("scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class TikTokUser(BaseModel):
    """`data.user` of user/info: only the fields of the granted scopes are present."""

    model_config = _WIRE

    open_id: str = Field(min_length=1)
    union_id: str | None = None
    avatar_url: str | None = None
    avatar_url_100: str | None = None
    avatar_large_url: str | None = None
    display_name: str | None = None
    bio_description: str | None = None
    profile_deep_link: str | None = None
    is_verified: bool | None = None
    username: str | None = None
    follower_count: int | None = None
    following_count: int | None = None
    likes_count: int | None = None
    video_count: int | None = None


class Video(BaseModel):
    model_config = _WIRE

    id: TikTokId
    create_time: int | None = None
    cover_image_url: str | None = None
    share_url: str | None = None
    video_description: str | None = None
    duration: int | None = None
    height: int | None = None
    width: int | None = None
    title: str | None = None
    embed_html: str | None = None
    embed_link: str | None = None
    like_count: int | None = None
    comment_count: int | None = None
    share_count: int | None = None
    view_count: int | None = None
    is_aigc: bool | None = None


# Requested explicitly with `?fields=`: TikTok returns only what is asked for.
VIDEO_FIELDS: tuple[str, ...] = tuple(Video.model_fields)


class VideoPage(BaseModel):
    """`data` of video/list. `cursor` is TikTok's int64 ms timestamp for the next page."""

    model_config = _WIRE

    videos: list[Video] = Field(default_factory=list)
    cursor: int | None = None
    has_more: bool = False
