"""Development-only helpers: the local demo page and a development token endpoint.

Mounted only outside production. The page stands in for the CRM frontend so the whole
connect flow can be tried against the built-in TikTok emulator with no credentials.

The page is served on one host only, `API_BASE_URL`'s: the OAuth state cookie is set there
and the callback returns there, and the page keeps the chosen company in that origin's
storage, so a page opened as `127.0.0.1` while the service calls itself `localhost` is
redirected first rather than losing both halfway through the flow.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Body, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from app.api.deps import SettingsDep
from app.core.origins import origin_of
from app.core.security import mint_dev_token

router = APIRouter(tags=["development"], include_in_schema=False)
PAGE = Path(__file__).with_name("integrations.html")


class DevToken(BaseModel):
    token: str


class DevTokenRequest(BaseModel):
    company: str = Field(default="demo", min_length=1, max_length=64)
    user: str = Field(default="demo-user", min_length=1, max_length=255)


@router.get("/integrations", response_class=HTMLResponse)
async def integrations_page(request: Request, settings: SettingsDep) -> Response:
    canonical = origin_of(settings.api_base_url)
    if canonical is not None and origin_of(str(request.base_url)) != canonical:
        query = f"?{request.url.query}" if request.url.query else ""
        target = f"{settings.api_base_url.rstrip('/')}/integrations{query}"
        return RedirectResponse(target, status_code=307)
    return HTMLResponse(PAGE.read_text(encoding="utf-8"))


@router.post("/_dev/token")
async def dev_token(
    settings: SettingsDep, body: DevTokenRequest = Body(default_factory=DevTokenRequest)
) -> DevToken:
    return DevToken(token=mint_dev_token(settings, body.company, body.user, ttl_seconds=8 * 3600))
