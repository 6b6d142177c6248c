"""API shapes of a connected account's TikTok profile, stats and videos."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class StatsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    follower_count: int | None
    following_count: int | None
    likes_count: int | None
    video_count: int | None
    captured_at: datetime


class ProfileOut(BaseModel):
    account_id: uuid.UUID
    open_id: str | None
    username: str | None
    display_name: str | None
    avatar_url: str | None
    avatar_large_url: str | None
    bio_description: str | None
    profile_deep_link: str | None
    is_verified: bool | None
    granted_scopes: list[str]
    stats: StatsOut | None = Field(description="Latest snapshot; null without user.info.stats")
    synced_at: datetime | None = Field(description="When the profile was last read from TikTok")


class StatsHistoryOut(BaseModel):
    account_id: uuid.UUID
    items: list[StatsOut] = Field(description="Oldest first")


class VideoOut(BaseModel):
    id: str = Field(description="TikTok video id (int64, as a string)")
    title: str | None
    description: str | None
    cover_image_url: str | None = Field(description="Signed by TikTok; valid about 6 hours")
    share_url: str | None
    embed_link: str | None
    embed_html: str | None
    duration: int | None = Field(description="Seconds")
    width: int | None
    height: int | None
    view_count: int | None
    like_count: int | None
    comment_count: int | None
    share_count: int | None
    created_at: datetime | None


class VideoPageOut(BaseModel):
    items: list[VideoOut]
    cursor: int | None = Field(description="Pass back as `cursor` for the next page")
    has_more: bool
