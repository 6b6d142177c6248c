"""Routes of the connect flow: connect, the first-party hop, the Login Kit and TikTok for
Business callbacks, disconnect, delete. The browser-only routes (hop, callbacks) are tagged
`oauth-browser`, so generated clients can leave them out; where they send the browser is
`app.oauth.returns`."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.accounts import service as accounts
from app.accounts.schemas import AccountOut
from app.ads.deps import AdsDep
from app.api.deps import (
    CipherDep,
    OptionalBusinessDep,
    OptionalTikTokDep,
    PrincipalDep,
    SessionDep,
    SessionmakerDep,
    SettingsDep,
)
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import error_responses
from app.core.http import API_PREFIX, query_parameter
from app.core.openapi import BROWSER_TAG
from app.idempotency import service as idempotency
from app.idempotency.service import IdempotencyKeyHeader
from app.oauth import returns, service
from app.oauth.ads_callback import AdsCallbackParams, AdsCallbackService
from app.oauth.deps import CodecDep
from app.oauth.returns import (
    MAX_RETURN_TO_LENGTH,
    RETURN_TO_PATTERN,
    ConnectMode,
    ReturnTarget,
)
from app.oauth.state import (
    OAUTH_PATH,
    STATE_COOKIE_GRACE_SECONDS,
    OAuthState,
    StateCodec,
    StateError,
    cookie_name,
)
from app.tiktok.errors import TikTokNotConfigured
from app.tokens.deps import TokensDep

# Connect and disconnect are documented under `accounts` (each route names its tag), the
# browser's pages under `oauth-browser`; they live here because they start or finish a
# connect, or revoke at TikTok.
router = APIRouter(prefix=f"{API_PREFIX}/accounts")
ads_callback_router = APIRouter(prefix=f"{API_PREFIX}/accounts", tags=[BROWSER_TAG])
delete_router = APIRouter(
    prefix=f"{API_PREFIX}/accounts", tags=["accounts"], responses=error_responses(401, 403, 422)
)
# In popup mode a callback answers a page, not a redirect.
POPUP_PAGE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Popup mode: a page that posts the result to the window that opened "
        "it, then closes (or, with no opener, goes on to the redirect)",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}


class ConnectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    return_to: str | None = Field(
        default=None,
        max_length=MAX_RETURN_TO_LENGTH,
        pattern=RETURN_TO_PATTERN,
        description="Where the browser returns, with `connected`, `account_id` and `error`: "
        "an http(s) URL under an allowed frontend origin (FRONTEND_URL's, FRONTEND_ORIGINS, "
        "FRONTEND_ORIGIN_REGEX; else 422 `return_to_not_allowed`). Default: "
        "`{FRONTEND_URL}/integrations`",
    )
    mode: ConnectMode = Field(
        default=ConnectMode.redirect,
        description="`redirect`: the browser is redirected to `return_to`. `popup`: open "
        "`authorization_url` in a popup; at the end it posts `{type, connected, account_id, "
        "error}` to its opener and closes, or redirects when it has no opener. It posts to "
        "`return_to`'s origin; without `return_to`, to the request's `Origin` (an allowed "
        "frontend origin, else 422 `return_to_not_allowed`), or `FRONTEND_URL`'s when the "
        "request has no `Origin`",
    )


class ConnectOut(BaseModel):
    authorization_url: str = Field(description="Navigate the browser here to connect")
    state: str = Field(description="Opaque OAuth state of this attempt")


def _target(
    settings: Settings, codec: StateCodec, payload: OAuthState | None, state: str | None
) -> ReturnTarget:
    """Where the browser returns: the signed payload's target; without one, what the state
    itself signs (a popup's mode and origin), else the default by redirect."""
    signed = codec.signed_return(payload.state if payload is not None else state)
    origin = signed.origin if signed is not None else None
    if payload is not None:
        return returns.target_of(settings, payload.return_to, payload.mode, origin)
    if signed is not None:
        return returns.target_of(settings, None, signed.mode, origin)
    return returns.default_target(settings)


def _finish(
    settings: Settings,
    codec: StateCodec,
    cookie: str | None,
    state: str | None,
    result: service.CallbackResult,
) -> Response:
    """A callback's answer to the browser, clearing the attempt's cookie."""
    target = _target(settings, codec, codec.signed_payload(cookie, state), state)
    account = str(result.account_id) if result.account_id is not None else None
    response = returns.respond(target, account, result.error)
    if state:
        response.delete_cookie(cookie_name(state), path=OAUTH_PATH)
    return response


def _set_state_cookie(
    response: Response, settings: Settings, codec: StateCodec, name: str, value: str
) -> None:
    response.set_cookie(
        name,
        value,
        # The cookie outlives the state by a margin, so an attempt that took too long is
        # named `state_expired` (the signed expiry inside) rather than a lost cookie.
        max_age=codec.ttl + STATE_COOKIE_GRACE_SECONDS,
        path=OAUTH_PATH,
        httponly=True,
        samesite="lax",
        secure=settings.api_base_url.startswith("https://"),
    )


@router.post(
    "/{account_id}/connect/",
    tags=["accounts"],
    response_model=ConnectOut,
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Start connecting a TikTok account (Login Kit, OAuth with PKCE) or a TikTok for "
    "Business advertiser (tiktok_ads)",
)
async def connect_account(
    account_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    codec: CodecDep,
    tiktok: OptionalTikTokDep,
    business: OptionalBusinessDep,
    body: ConnectIn | None = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ConnectOut | Response:
    options = body or ConnectIn()
    # A popup without `return_to` posts to the page that asked (its `Origin`), so a retry
    # from another page is another request.
    origin = request.headers.get("origin")
    operation = f"accounts.connect {account_id}"
    if options.mode == ConnectMode.popup and options.return_to is None and origin is not None:
        operation += f" from {origin}"

    async def connect() -> ConnectOut:
        start = await service.start_connect(
            session,
            principal,
            account_id,
            settings,
            codec,
            tiktok=tiktok,
            business=business,
            return_to=options.return_to,
            mode=options.mode,
            request_origin=origin,
        )
        # Same-origin frontends get the cookie here; cross-origin ones through the hop URL
        # (which is all a replayed answer offers: its cookie is not kept).
        _set_state_cookie(response, settings, codec, start.cookie_name, start.cookie_value)
        return ConnectOut(authorization_url=start.authorization_url, state=start.state)

    return await idempotency.once(
        session,
        principal.company_id,
        idempotency_key,
        operation=operation,
        body=options,
        status_code=status.HTTP_200_OK,
        work=connect,
        # The answer's link lives as long as its state: a replay never hands out a dead one.
        ttl=timedelta(seconds=codec.ttl),
    )


@router.get(
    "/oauth/start/tiktok/",
    tags=[BROWSER_TAG],
    response_class=RedirectResponse,
    status_code=302,
    responses=POPUP_PAGE,
    summary="Browser hop: set the state cookie first-party, then go to TikTok (or TikTok for "
    "Business)",
    openapi_extra={"parameters": [query_parameter("ticket", "Signed, encrypted connect ticket")]},
)
async def oauth_start(
    request: Request,
    settings: SettingsDep,
    codec: CodecDep,
    tiktok: OptionalTikTokDep,
    business: OptionalBusinessDep,
) -> Response:
    ticket = request.query_params.get("ticket", "")
    try:
        cookie_value = codec.open_ticket(ticket)
        payload = codec.verify(cookie_value, codec.peek_state(cookie_value), utcnow())
    except StateError as exc:
        # A popup's expired (or otherwise refused) link still answers in popup mode, to its
        # checked target: the opener is told, rather than the frontend loading in the popup.
        # Any other goes to the default by redirect, as it always has.
        readable = codec.ticket_payload(ticket)
        popup = readable is not None and readable.mode == ConnectMode.popup
        refused = _target(settings, codec, readable if popup else None, None)
        return returns.respond(refused, None, exc.code)
    try:
        target = service.authorize_url(payload, settings, tiktok, business)
    except TikTokNotConfigured as exc:
        where = _target(settings, codec, payload, payload.state)
        return returns.respond(where, payload.account_id, exc.code)
    redirect = RedirectResponse(target, status_code=302)
    _set_state_cookie(redirect, settings, codec, cookie_name(payload.state), cookie_value)
    return redirect


@router.get(
    "/oauth/callback/tiktok/",
    tags=[BROWSER_TAG],
    response_class=RedirectResponse,
    status_code=302,
    responses=POPUP_PAGE,
    summary="TikTok redirects the browser here; always ends on the frontend (a redirect, or "
    "the popup page)",
    openapi_extra={
        "parameters": [
            query_parameter("code", "Authorization code (on approval)"),
            query_parameter("scopes", "Granted scopes, comma-separated"),
            query_parameter("state", "The state of this connect attempt"),
            query_parameter("error", "TikTok's error code (on denial or failure)"),
            query_parameter("error_description", "TikTok's error text"),
        ]
    },
)
async def oauth_callback(
    request: Request,
    session: SessionDep,
    sessionmaker: SessionmakerDep,
    settings: SettingsDep,
    codec: CodecDep,
    tiktok: OptionalTikTokDep,
    cipher: CipherDep,
) -> Response:
    # Query parameters are read by hand, not validated by FastAPI: whatever arrives, the
    # browser must end on the frontend, never on a 422 JSON page.
    query = request.query_params
    state = query.get("state")
    params = service.CallbackParams(
        code=query.get("code"),
        state=state,
        scopes=query.get("scopes"),
        error=query.get("error"),
        error_description=query.get("error_description"),
    )
    cookie = request.cookies.get(cookie_name(state)) if state else None
    if tiktok is None:
        # Not configured (production without TIKTOK_CLIENT_ID): still back to the frontend.
        result = service.CallbackResult(_account_of(codec, cookie, state), TikTokNotConfigured.code)
    else:
        callbacks = service.CallbackService(session, sessionmaker, settings, codec, tiktok, cipher)
        result = await callbacks.finish(params, cookie)
    return _finish(settings, codec, cookie, state, result)


def _account_of(codec: StateCodec, cookie: str | None, state: str | None) -> uuid.UUID | None:
    """The account a valid state cookie names, else None."""
    try:
        return codec.verify(cookie, state, utcnow()).account_uuid
    except StateError:
        return None


@router.post(
    "/{account_id}/disconnect/",
    tags=["accounts"],
    responses=error_responses(401, 403, 404, 422),
    summary="Revoke at TikTok, wipe the tokens, mark the account disconnected (an ads "
    "account's lead webhooks are unsubscribed and its advertisers unlinked)",
)
async def disconnect_account(
    account_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    tiktok: OptionalTikTokDep,
    tokens: TokensDep,
    ads: AdsDep,
) -> AccountOut:
    account = await service.disconnect(session, principal, account_id, tiktok, tokens, ads)
    return AccountOut.model_validate(account)


@ads_callback_router.get(
    "/oauth/callback/tiktok-ads/",
    response_class=RedirectResponse,
    status_code=302,
    responses=POPUP_PAGE,
    summary="TikTok for Business redirects the browser here; always ends on the frontend (a "
    "redirect, or the popup page)",
    openapi_extra={
        "parameters": [
            query_parameter("auth_code", "Authorization code (on approval)"),
            query_parameter("code", "The same code under its other name"),
            query_parameter("state", "The state of this connect attempt"),
            query_parameter("error", "Error code (on denial or failure)"),
            query_parameter("error_description", "Error text"),
        ]
    },
)
async def ads_oauth_callback(
    request: Request, settings: SettingsDep, codec: CodecDep, ads: AdsDep
) -> Response:
    # Read by hand, not validated by FastAPI: whatever arrives, the browser must end on
    # the frontend, never on a 422 JSON page.
    query = request.query_params
    state = query.get("state")
    params = AdsCallbackParams(
        auth_code=query.get("auth_code") or query.get("code"),
        state=state,
        error=query.get("error"),
        error_description=query.get("error_description"),
    )
    cookie = request.cookies.get(cookie_name(state)) if state else None
    result = await AdsCallbackService(ads, codec).finish(params, cookie)
    return _finish(settings, codec, cookie, state, result)


@delete_router.delete(
    "/{account_id}/",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404),
    summary="Delete an account (revokes at TikTok first)",
)
async def delete_account(
    account_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    tiktok: OptionalTikTokDep,
    tokens: TokensDep,
    ads: AdsDep,
) -> Response:
    # Here, not in `app.accounts`: deleting revokes at TikTok first, which is this
    # package's (the accounts package stays below the connect flows).
    revoke = await service.revoke_quietly(principal, account_id, tiktok, tokens, ads)
    await accounts.delete(session, principal, account_id, revoke)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
