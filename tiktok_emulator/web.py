"""The emulator's browsable side: landing page, profiles, video pages and generated images."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from tiktok_emulator.config import SCOPES
from tiktok_emulator.deps import EmulatorDep
from tiktok_emulator.links import Links
from tiktok_emulator.pages import (
    LandingLinks,
    avatar_svg,
    cover_svg,
    landing_page,
    profile_page,
    video_page,
)
from tiktok_emulator.seed import FakeUser, FakeVideo
from tiktok_emulator.state import EmulatorState

router = APIRouter(include_in_schema=False)

_SVG = "image/svg+xml"
_CONTROL = (
    ("GET", "/_control/users", "The fake users and their open_ids"),
    ("POST", "/_control/users/{open_id}/revoke", "Revoke a user's tokens, send the webhook"),
    ("GET", "/_control/stats", "Request counts per endpoint (token calls by grant_type)"),
    ("GET", "/_control/faults", "Pending injected faults"),
    ("POST", "/_control/faults", "Inject a fault into the next requests of an endpoint"),
    ("DELETE", "/_control/faults", "Remove every pending fault"),
    ("POST", "/_control/clock", "Move the emulator's time forward (expire tokens)"),
    ("POST", "/_control/reset", "Forget every code, token, fault and counter"),
    ("GET", "/portal/auth?app_id=sandbox-business-app&redirect_uri=…", "Advertiser consent"),
    ("GET", "/_control/business/advertisers", "Fake advertisers, their lead forms and leads"),
    ("PUT", "/_control/business/advertisers", "Set up other advertisers and forms (no leads)"),
    ("POST", "/_control/business/leads", "Create leads and send their webhooks"),
    ("POST", "/_control/business/deliveries/redeliver", "Send the last lead webhook again"),
    ("GET", "/_control/business/deliveries", "Lead webhooks sent and their outcomes"),
    ("GET", "/_control/business/subscriptions", "Lead subscriptions, dead ones included"),
    ("POST", "/_control/business/subscriptions/{id}/drop", "TikTok drops a subscription"),
    ("POST", "/_control/business/advertisers/{id}/revoke", "Advertiser removes the app"),
    ("PATCH", "/_control/business/paging", "Answer smaller pages of forms than asked"),
    ("PATCH", "/_control/business/webhooks", "Drop a share of lead webhooks (drop_share)"),
    ("POST", "/_control/business/faults", "Inject a Marketing API fault"),
    ("GET", "/docs", "OpenAPI documentation of all of the above"),
)


def _user(emulator: EmulatorState, username: str) -> FakeUser:
    for user in emulator.users.values():
        if user.username == username:
            return user
    raise HTTPException(404, "No such user.")


def _video(emulator: EmulatorState, video_id: str) -> FakeVideo:
    video = emulator.videos_by_id.get(video_id)
    if video is None:
        raise HTTPException(404, "No such video.")
    return video


@router.get("/", response_class=HTMLResponse, name="landing")
async def landing(request: Request, emulator: EmulatorDep) -> HTMLResponse:
    links = Links(request, emulator.now())
    example = {
        "client_key": emulator.config.client_key,
        "scope": ",".join(SCOPES),
        "response_type": "code",
        "redirect_uri": emulator.config.redirect_uris[0]
        if emulator.config.redirect_uris
        else "http://localhost:8000/callback",
        "state": "example-state",
    }
    authorize = f"{request.url_for('authorize').path}?{urlencode(example)}"
    root = request.scope.get("root_path", "")
    control = [(method, f"{root}{path}", what) for method, path, what in _CONTROL]
    users = [(u, links.avatar(u, 100), links.profile(u)) for u in emulator.users.values()]
    return HTMLResponse(landing_page(users, LandingLinks(authorize, control)))


@router.get("/@{username}", response_class=HTMLResponse, name="profile")
async def profile(request: Request, emulator: EmulatorDep, username: str) -> HTMLResponse:
    user = _user(emulator, username)
    links = Links(request, emulator.now())
    videos = [
        (video, links.share(video, user), links.cover(video))
        for video in emulator.videos[user.open_id]
    ]
    return HTMLResponse(profile_page(user, links.avatar(user, 100), videos))


@router.get("/@{username}/video/{video_id}", response_class=HTMLResponse, name="video")
async def video(
    request: Request, emulator: EmulatorDep, username: str, video_id: str
) -> HTMLResponse:
    user = _user(emulator, username)
    found = _video(emulator, video_id)
    if found.open_id != user.open_id:
        raise HTTPException(404, "No such video.")
    links = Links(request, emulator.now())
    return HTMLResponse(video_page(found, user, links.cover(found), links.profile(user)))


@router.get("/embed/v2/{video_id}", response_class=HTMLResponse, name="embed")
async def embed(request: Request, emulator: EmulatorDep, video_id: str) -> HTMLResponse:
    found = _video(emulator, video_id)
    user = emulator.users[found.open_id]
    links = Links(request, emulator.now())
    return HTMLResponse(video_page(found, user, links.cover(found), links.profile(user)))


@router.get("/_assets/avatar/{open_id}.svg", name="avatar")
async def avatar(
    emulator: EmulatorDep, open_id: str, size: int = Query(168, ge=16, le=1080)
) -> Response:
    user = emulator.users.get(open_id)
    if user is None:
        raise HTTPException(404, "No such user.")
    return Response(avatar_svg(user, size), media_type=_SVG)


@router.get("/_assets/cover/{video_id}.svg", name="cover")
async def cover(
    emulator: EmulatorDep,
    video_id: str,
    expires: int = Query(0, alias="x-expires"),
) -> Response:
    found = _video(emulator, video_id)
    # Like TikTok's CDN links, covers expire: clients refresh them with video/query.
    if expires <= emulator.now():
        raise HTTPException(403, "This cover URL has expired.")
    return Response(cover_svg(found, emulator.users[found.open_id]), media_type=_SVG)
