"""Login Kit endpoints: the consent page and its form, token exchange and revocation."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.datastructures import FormData

from tiktok_emulator.authorize import AuthorizeRejected, parse_authorize, parse_scopes
from tiktok_emulator.config import REQUIRED_SCOPE, SCOPES
from tiktok_emulator.deps import EmulatorDep
from tiktok_emulator.grants import OAuthError, TokenPair
from tiktok_emulator.links import Links
from tiktok_emulator.pages import consent_page
from tiktok_emulator.state import EmulatorState
from tiktok_emulator.wire import apply_fault

router = APIRouter(tags=["login kit"])

# The authorize parameters the consent form carries back as hidden fields.
_CARRIED = ("client_key", "response_type", "redirect_uri", "state", "code_challenge")
_CARRIED_METHOD = "code_challenge_method"
_TOKEN_GRANTS = ("authorization_code", "refresh_token")


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _redirect(uri: str, params: dict[str, str], state: str | None) -> RedirectResponse:
    if state is not None:
        params["state"] = state
    return RedirectResponse(f"{uri}?{urlencode(params)}", status_code=302)


@router.get("/v2/auth/authorize/", response_class=HTMLResponse, name="authorize")
async def authorize(request: Request, emulator: EmulatorDep) -> HTMLResponse:
    emulator.count("authorize")
    params = parse_authorize(request.query_params, emulator.config)
    links = Links(request, emulator.now())
    users = [(user, links.avatar(user, 100)) for user in emulator.users.values()]
    action = request.url_for("decide").path
    return HTMLResponse(consent_page(params, users, action))


@router.post("/v2/auth/authorize/", name="decide")
async def decide(request: Request, emulator: EmulatorDep) -> RedirectResponse:
    """The consent form: re-validates everything, since hidden fields can be edited."""
    form = await request.form()
    carried = {name: value for name in _CARRIED if (value := _text(form, name)) is not None}
    if (method := _text(form, _CARRIED_METHOD)) is not None:
        carried[_CARRIED_METHOD] = method
    carried["scope"] = _text(form, "requested_scopes") or ""
    params = parse_authorize(carried, emulator.config)
    decision = _text(form, "decision")
    if decision == "deny":
        emulator.count("authorize.deny")
        denied = {"error": "access_denied", "error_description": "The user denied the request."}
        return _redirect(params.redirect_uri, denied, params.state)
    if decision != "approve":
        raise AuthorizeRejected("decision must be approve or deny.")
    open_id = _text(form, "user")
    if open_id not in emulator.users:
        raise AuthorizeRejected("Choose one of the listed users.")
    ticked = parse_scopes(",".join(v for v in form.getlist("scope") if isinstance(v, str)))
    if not set(ticked) <= set(params.scopes):
        raise AuthorizeRejected("Only requested scopes can be granted.")
    # user.info.basic's checkbox is disabled (so never submitted): it is always granted.
    granted = tuple(s for s in SCOPES if s == REQUIRED_SCOPE or s in ticked)
    code = emulator.grants.issue_code(
        client_key=params.client_key,
        redirect_uri=params.redirect_uri,
        open_id=open_id,
        scopes=granted,
        code_challenge=params.code_challenge,
    )
    emulator.count("authorize.approve")
    return _redirect(params.redirect_uri, {"code": code, "scopes": ",".join(granted)}, params.state)


def _token_body(pair: TokenPair, emulator: EmulatorState) -> dict[str, str | int]:
    return {
        "access_token": pair.access.value,
        "expires_in": emulator.config.access_token_ttl,
        "open_id": pair.access.open_id,
        "refresh_expires_in": emulator.config.refresh_token_ttl,
        "refresh_token": pair.refresh.value,
        "scope": ",".join(pair.access.scopes),
        "token_type": "Bearer",
    }


@router.post("/v2/oauth/token/", name="token")
async def token(request: Request, emulator: EmulatorDep) -> JSONResponse:
    form = await request.form()
    grant_type = _text(form, "grant_type")
    emulator.count(f"token.{grant_type}" if grant_type in _TOKEN_GRANTS else "token.other")
    await apply_fault(emulator.faults, "token", "oauth", emulator.log_id)
    client_key = emulator.grants.authenticate_client(
        _text(form, "client_key"), _text(form, "client_secret")
    )
    if grant_type == "authorization_code":
        pair = emulator.grants.exchange_code(
            client_key,
            _text(form, "code"),
            _text(form, "redirect_uri"),
            _text(form, "code_verifier"),
        )
    elif grant_type == "refresh_token":
        pair = emulator.grants.refresh(client_key, _text(form, "refresh_token"))
    elif not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    else:
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type} is not supported.")
    return JSONResponse(_token_body(pair, emulator), headers={"Cache-Control": "no-store"})


@router.post("/v2/oauth/revoke/", name="revoke")
async def revoke(request: Request, emulator: EmulatorDep) -> JSONResponse:
    form = await request.form()
    emulator.count("revoke")
    await apply_fault(emulator.faults, "revoke", "oauth", emulator.log_id)
    client_key = emulator.grants.authenticate_client(
        _text(form, "client_key"), _text(form, "client_secret")
    )
    emulator.grants.revoke(client_key, _text(form, "token"))
    return JSONResponse({})
