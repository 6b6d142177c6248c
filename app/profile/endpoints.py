"""Routes for a connected account's TikTok profile, stats history, videos and sync."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from app.api.deps import PrincipalDep, ReadSessionDep, SettingsDep
from app.core.errors import error_responses
from app.core.http import API_PREFIX
from app.core.params import ISO_8601
from app.profile import service
from app.profile.deps import ProfilesDep
from app.profile.schemas import ProfileOut, StatsHistoryOut, VideoPageOut

router = APIRouter(
    prefix=f"{API_PREFIX}/accounts",
    tags=["tiktok"],
    responses=error_responses(401, 403, 404, 409, 422),
)
UPSTREAM = error_responses(429, 502, 503)


@router.post(
    "/{account_id}/sync/", responses=UPSTREAM, summary="Pull profile and stats from TikTok now"
)
async def sync_account(
    account_id: uuid.UUID, principal: PrincipalDep, profiles: ProfilesDep
) -> ProfileOut:
    return await profiles.sync(principal, account_id)


@router.get(
    "/{account_id}/tiktok-profile/",
    responses=UPSTREAM,
    summary="The stored profile and latest stats, refreshed when older than the maximum age",
)
async def get_tiktok_profile(
    account_id: uuid.UUID,
    session: ReadSessionDep,
    principal: PrincipalDep,
    profiles: ProfilesDep,
    settings: SettingsDep,
    refresh: Annotated[bool, Query(description="Read from TikTok now")] = False,
) -> ProfileOut:
    max_age = timedelta(seconds=settings.profile_max_age_seconds)
    return await profiles.profile(session, principal, account_id, refresh=refresh, max_age=max_age)


@router.get("/{account_id}/tiktok-stats/", summary="Stats snapshots over time, oldest first")
async def get_tiktok_stats(
    account_id: uuid.UUID,
    session: ReadSessionDep,
    principal: PrincipalDep,
    since: Annotated[
        AwareDatetime | None,
        ISO_8601,
        Query(description="Only snapshots at or after this time (ISO 8601 with zone)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> StatsHistoryOut:
    return await service.stats_history(session, principal, account_id, since, limit)


@router.get(
    "/{account_id}/tiktok-videos/",
    responses=UPSTREAM,
    summary="The account's public videos, newest first",
)
async def list_tiktok_videos(
    account_id: uuid.UUID,
    principal: PrincipalDep,
    profiles: ProfilesDep,
    cursor: Annotated[int | None, Query(ge=0, description="`cursor` of the previous page")] = None,
    max_count: Annotated[int, Query(ge=1, le=20)] = 20,
) -> VideoPageOut:
    return await profiles.videos(principal, account_id, cursor=cursor, max_count=max_count)
