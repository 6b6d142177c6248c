"""Display API endpoints: user info, video list and video query."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from tiktok_emulator.config import (
    DEFAULT_VIDEO_COUNT,
    MAX_QUERY_IDS,
    MAX_VIDEO_COUNT,
    USER_FIELDS,
    VIDEO_FIELDS,
    VIDEO_SCOPE,
)
from tiktok_emulator.deps import EmulatorDep, display_call
from tiktok_emulator.grants import Token
from tiktok_emulator.links import Links
from tiktok_emulator.pages import embed_html
from tiktok_emulator.seed import FakeUser, FakeVideo
from tiktok_emulator.wire import DisplayError, display_ok

router = APIRouter(tags=["display api"])

UserInfoCall = Annotated[Token, Depends(display_call("user_info"))]
VideoListCall = Annotated[Token, Depends(display_call("video_list"))]
VideoQueryCall = Annotated[Token, Depends(display_call("video_query"))]


def _invalid(message: str) -> DisplayError:
    return DisplayError(400, "invalid_params", message)


def _fields(request: Request, known: Iterable[str]) -> list[str]:
    raw = request.query_params.get("fields", "")
    fields = list(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip()))
    if not fields:
        raise _invalid("fields is required.")
    unknown = sorted(set(fields).difference(known))
    if unknown:
        raise _invalid(f"Unknown fields: {', '.join(unknown)}.")
    return fields


def _require_scope(token: Token, scope: str) -> None:
    if scope not in token.scopes:
        raise DisplayError(401, "scope_not_authorized", f"The user did not authorize {scope}.")


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _invalid("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object.")
    return body


def _int_param(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(f"{name} must be an integer.")
    return value


def _user_data(user: FakeUser, video_count: int, links: Links) -> dict[str, Any]:
    return {
        "open_id": user.open_id,
        "union_id": user.union_id,
        "avatar_url": links.avatar(user),
        "avatar_url_100": links.avatar(user, 100),
        "avatar_large_url": links.avatar(user, 720),
        "display_name": user.display_name,
        "bio_description": user.bio,
        "profile_deep_link": links.profile(user),
        "is_verified": user.is_verified,
        "username": user.username,
        "follower_count": user.follower_count,
        "following_count": user.following_count,
        "likes_count": user.likes_count,
        "video_count": video_count,
    }


def _video_data(video: FakeVideo, user: FakeUser, links: Links) -> dict[str, Any]:
    share_url = links.share(video, user)
    return {
        "id": video.id,
        "create_time": video.create_time,
        "cover_image_url": links.cover(video),
        "share_url": share_url,
        "video_description": video.description,
        "duration": video.duration,
        "height": video.height,
        "width": video.width,
        "title": video.title,
        "embed_html": embed_html(video, user, share_url, links.profile(user)),
        "embed_link": links.embed(video),
        "like_count": video.like_count,
        "comment_count": video.comment_count,
        "share_count": video.share_count,
        "view_count": video.view_count,
        "is_aigc": False,
    }


def _pick(data: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {field: data[field] for field in fields}


def _page_size(start: int, max_count: int, total: int) -> int:
    """TikTok's quirk, made deterministic: walking from the newest video, every third page
    holds one video fewer than asked for, while has_more stays true."""
    size = min(max_count, total - start)
    third_page = start % (3 * max_count - 1) == 2 * max_count
    if max_count > 1 and third_page and total - start > max_count:
        return size - 1
    return size


@router.get("/v2/user/info/", name="user_info")
async def user_info(request: Request, emulator: EmulatorDep, token: UserInfoCall) -> JSONResponse:
    fields = _fields(request, USER_FIELDS)
    for field in fields:
        _require_scope(token, USER_FIELDS[field])
    user = emulator.users[token.open_id]
    links = Links(request, emulator.now())
    data = _user_data(user, len(emulator.videos[user.open_id]), links)
    return display_ok({"user": _pick(data, fields)}, emulator.log_id())


@router.post("/v2/video/list/", name="video_list")
async def video_list(request: Request, emulator: EmulatorDep, token: VideoListCall) -> JSONResponse:
    fields = _fields(request, VIDEO_FIELDS)
    _require_scope(token, VIDEO_SCOPE)
    body = await _json_object(request)
    max_count = _int_param(body, "max_count", DEFAULT_VIDEO_COUNT)
    if not 1 <= max_count <= MAX_VIDEO_COUNT:
        raise _invalid(f"max_count must be between 1 and {MAX_VIDEO_COUNT}.")
    cursor = _int_param(body, "cursor", 0)
    if cursor < 0:
        raise _invalid("cursor must not be negative.")
    videos = emulator.videos[token.open_id]
    # The cursor is the create_time (ms) of the last video seen; 0 starts from the newest.
    start = next(
        (i for i, video in enumerate(videos) if not cursor or video.create_time * 1000 < cursor),
        len(videos),
    )
    page = videos[start : start + _page_size(start, max_count, len(videos))]
    user = emulator.users[token.open_id]
    links = Links(request, emulator.now())
    data = {
        "videos": [_pick(_video_data(video, user, links), fields) for video in page],
        "cursor": page[-1].create_time * 1000 if page else cursor,
        "has_more": start + len(page) < len(videos),
    }
    return display_ok(data, emulator.log_id())


@router.post("/v2/video/query/", name="video_query")
async def video_query(
    request: Request, emulator: EmulatorDep, token: VideoQueryCall
) -> JSONResponse:
    fields = _fields(request, VIDEO_FIELDS)
    _require_scope(token, VIDEO_SCOPE)
    body = await _json_object(request)
    filters = body.get("filters")
    ids = filters.get("video_ids") if isinstance(filters, dict) else None
    if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
        raise _invalid("filters.video_ids must be a list of video id strings.")
    if not 1 <= len(ids) <= MAX_QUERY_IDS:
        raise _invalid(f"filters.video_ids takes 1 to {MAX_QUERY_IDS} ids.")
    user = emulator.users[token.open_id]
    links = Links(request, emulator.now())
    # Other users' (or unknown) ids are silently left out, as TikTok does.
    found = [
        video
        for video_id in dict.fromkeys(ids)
        if (video := emulator.videos_by_id.get(video_id)) and video.open_id == user.open_id
    ]
    videos = [_pick(_video_data(video, user, links), fields) for video in found]
    return display_ok({"videos": videos}, emulator.log_id())
