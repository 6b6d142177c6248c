"""Routes of the connect flow: connect, the first-party hop, the Login Kit callback,
disconnect. The TikTok for Business callback is in `app.ads.endpoints`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
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
    SettingsDep,
)
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import error_responses
from app.core.http import API_PREFIX, query_parameter
from app.oauth import service
from app.oauth.ads_callback import AdsCallbackParams, AdsCallbackService
from app.oauth.deps import CodecDep
from app.oauth.state import (
    OAUTH_PATH,
    STATE_COOKIE_GRACE_SECONDS,
    StateCodec,
    StateError,
    cookie_name,
)
from app.tiktok.errors import TikTokNotConfigured
from app.tokens.deps import TokensDep

router = APIRouter(prefix=f"{API_PREFIX}/accounts", tags=["oauth"])
# Routes of the connect flows documented under the accounts' and the ads' tags, as the CRM's
# clients know them; they live here because they finish a connect or revoke at TikTok.
ads_callback_router = APIRouter(prefix=f"{API_PREFIX}/accounts", tags=["ads"])
delete_router = APIRouter(
    prefix=f"{API_PREFIX}/accounts", tags=["accounts"], responses=error_responses(401, 403, 422)
)


class ConnectOut(BaseModel):
    authorization_url: str = Field(description="Navigate the browser here to connect")
    state: str = Field(description="Opaque OAuth state of this attempt")


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
    responses=error_responses(401, 403, 404, 422, 503),
    summary="Start connecting a TikTok account (Login Kit, OAuth with PKCE) or a TikTok for "
    "Business advertiser (tiktok_ads)",
)
async def connect_account(
    account_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    codec: CodecDep,
    tiktok: OptionalTikTokDep,
    business: OptionalBusinessDep,
) -> ConnectOut:
    start = await service.start_connect(
        session, principal, account_id, settings, codec, tiktok=tiktok, business=business
    )
    # Same-origin frontends get the cookie here; cross-origin ones through the hop URL.
    _set_state_cookie(response, settings, codec, start.cookie_name, start.cookie_value)
    return ConnectOut(authorization_url=start.authorization_url, state=start.state)


@router.get(
    "/oauth/start/tiktok/",
    response_class=RedirectResponse,
    status_code=302,
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
) -> RedirectResponse:
    try:
        cookie_value = codec.open_ticket(request.query_params.get("ticket", ""))
        payload = codec.verify(cookie_value, codec.peek_state(cookie_value), utcnow())
    except StateError as exc:
        result = service.CallbackResult(None, exc.code)
        return RedirectResponse(service.frontend_redirect(settings, result), status_code=302)
    try:
        target = service.authorize_url(payload, settings, tiktok, business)
    except TikTokNotConfigured as exc:
        result = service.CallbackResult(payload.account_uuid, exc.code)
        return RedirectResponse(service.frontend_redirect(settings, result), status_code=302)
    redirect = RedirectResponse(target, status_code=302)
    _set_state_cookie(redirect, settings, codec, cookie_name(payload.state), cookie_value)
    return redirect


@router.get(
    "/oauth/callback/tiktok/",
    response_class=RedirectResponse,
    status_code=302,
    summary="TikTok redirects the browser here; always ends in a redirect to the frontend",
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
    settings: SettingsDep,
    codec: CodecDep,
    tiktok: OptionalTikTokDep,
    cipher: CipherDep,
) -> RedirectResponse:
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
        callbacks = service.CallbackService(
            session, request.app.state.sessionmaker, settings, codec, tiktok, cipher
        )
        result = await callbacks.finish(params, cookie)
    redirect = RedirectResponse(service.frontend_redirect(settings, result), status_code=302)
    if state:
        redirect.delete_cookie(cookie_name(state), path=OAUTH_PATH)
    return redirect


def _account_of(codec: StateCodec, cookie: str | None, state: str | None) -> uuid.UUID | None:
    """The account a valid state cookie names, else None."""
    try:
        return codec.verify(cookie, state, utcnow()).account_uuid
    except StateError:
        return None


@router.post(
    "/{account_id}/disconnect/",
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
    summary="TikTok for Business redirects the browser here; always ends in a redirect to "
    "the frontend",
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
) -> RedirectResponse:
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
    redirect = RedirectResponse(service.frontend_redirect(settings, result), status_code=302)
    if state:
        redirect.delete_cookie(cookie_name(state), path=OAUTH_PATH)
    return redirect


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
