"""TikTok for Business's advertiser consent page (`/portal/auth`) and its form.

Approve redirects to `redirect_uri?auth_code=X&code=X&state=S` (TikTok sends the code under
both names). TikTok does not document what a refusal looks like: the emulator redirects with
`error=access_denied&state=S` and no code, as Login Kit does, so a callback must treat "no
auth_code" as a refusal whatever else the query holds. A user who manages no advertiser
account (a world the control API sets up) approves with none ticked, and the token of that
code covers none. Invalid requests (unknown app_id, a redirect_uri not allowed) get an error
page, never a redirect.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tiktok_emulator.authorize import AuthorizeRejected, check_redirect_uri
from tiktok_emulator.config import EmulatorConfig
from tiktok_emulator.deps import EmulatorDep
from tiktok_emulator.pages import business_consent_page

router = APIRouter(tags=["tiktok for business"])


@dataclass(frozen=True)
class PortalRequest:
    app_id: str
    redirect_uri: str
    state: str | None


def parse_portal(params: Mapping[str, str], config: EmulatorConfig) -> PortalRequest:
    app_id = params.get("app_id", "")
    if not hmac.compare_digest(app_id.encode(), config.business_app_id.encode()):
        raise AuthorizeRejected("app_id is missing or unknown.")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        raise AuthorizeRejected("redirect_uri is required.")
    check_redirect_uri(redirect_uri, config.business_redirect_uris)
    return PortalRequest(app_id=app_id, redirect_uri=redirect_uri, state=params.get("state"))


def _redirect(request: PortalRequest, params: dict[str, str]) -> RedirectResponse:
    if request.state is not None:
        params["state"] = request.state
    return RedirectResponse(f"{request.redirect_uri}?{urlencode(params)}", status_code=302)


@router.get("/portal/auth", response_class=HTMLResponse, name="business_authorize")
async def portal(request: Request, emulator: EmulatorDep) -> HTMLResponse:
    emulator.count("business.authorize")
    params = parse_portal(request.query_params, emulator.config)
    page = business_consent_page(
        app_id=params.app_id,
        redirect_uri=params.redirect_uri,
        state=params.state,
        advertisers=list(emulator.business.advertisers.values()),
        action=request.url_for("business_decide").path,
    )
    return HTMLResponse(page)


@router.post("/portal/auth", name="business_decide")
async def decide(request: Request, emulator: EmulatorDep) -> RedirectResponse:
    """The consent form: re-validated, since hidden fields can be edited."""
    form = await request.form()
    carried = {
        name: value
        for name in ("app_id", "redirect_uri", "state")
        if isinstance(value := form.get(name), str)
    }
    params = parse_portal(carried, emulator.config)
    decision = form.get("decision")
    if decision == "deny":
        emulator.count("business.authorize.deny")
        return _redirect(params, {"error": "access_denied"})
    if decision != "approve":
        raise AuthorizeRejected("decision must be approve or deny.")
    world = emulator.business
    ticked = {value for value in form.getlist("advertiser_id") if isinstance(value, str)}
    # Only a user with no advertiser to list approves with none ticked.
    if not ticked <= world.advertisers.keys() or (world.advertisers and not ticked):
        raise AuthorizeRejected("Choose at least one of the listed advertisers.")
    # In the order the page lists them.
    advertiser_ids = tuple(a for a in world.advertisers if a in ticked)
    code = world.issue_code(params.redirect_uri, advertiser_ids)
    emulator.count("business.authorize.approve")
    return _redirect(params, {"auth_code": code, "code": code})
