"""The connection lifecycle: start a connect (Login Kit or TikTok for Business), finish the
Login Kit callback, disconnect (either platform).

Both platforms share the signed state cookie and the first-party hop; the TikTok for
Business callback is `app.oauth.ads_callback`. A callback never raises into the browser: every
outcome is a `CallbackResult` that the endpoint turns into a redirect to the CRM frontend
with `connected=true|false&error=CODE`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import lifecycle, repository
from app.accounts import service as accounts
from app.accounts.errors import (
    AccountNotConnected,
    AccountNotFound,
    NotALoginKitAccount,
    ReauthRequired,
)
from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.ads import service as ads
from app.ads.service import AdsService
from app.audit import service as audit
from app.audit.models import LogLevel
from app.core.config import Settings
from app.core.crypto import TokenCipher
from app.core.db import session_scope, utcnow
from app.core.security import Principal
from app.oauth.errors import ConnectError
from app.oauth.models import ConsumedOAuthState
from app.oauth.returns import ConnectMode, checked_return_to, popup_origin
from app.oauth.state import (
    OAUTH_PATH,
    OAuthState,
    StateCodec,
    StateError,
    cookie_name,
    state_hash,
)
from app.tiktok import pkce
from app.tiktok.business import TikTokBusinessClient
from app.tiktok.client import TikTokClient
from app.tiktok.errors import TikTokCodeRejected, TikTokError, TikTokNotConfigured
from app.tiktok.schemas import TikTokUser, TokenSet
from app.tokens import store, unreadable
from app.tokens.errors import TokenUnreadable
from app.tokens.manager import TokenManager

logger = logging.getLogger("app.oauth")

# TikTok's documented OAuth error codes, passed through to the frontend; others are generic.
KNOWN_TIKTOK_ERRORS = {
    "access_denied",
    "invalid_request",
    "invalid_scope",
    "unauthorized_client",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
}


@dataclass(frozen=True, slots=True)
class ConnectStart:
    authorization_url: str
    state: str
    cookie_name: str
    cookie_value: str


@dataclass(frozen=True, slots=True)
class CallbackResult:
    account_id: uuid.UUID | None
    error: str | None = None


async def start_connect(
    session: AsyncSession,
    principal: Principal,
    account_id: uuid.UUID,
    settings: Settings,
    codec: StateCodec,
    *,
    tiktok: TikTokClient | None,
    business: TikTokBusinessClient | None,
    return_to: str | None = None,
    mode: ConnectMode = ConnectMode.redirect,
    request_origin: str | None = None,
) -> ConnectStart:
    """A connect attempt of a Login Kit account (with PKCE) or an ads account (without),
    returning the browser to `return_to` (checked here: see `app.oauth.returns`); a popup
    posts to `return_to`'s origin, else to `request_origin` (the `Origin` header) if allowed.
    """
    return_to = checked_return_to(settings, return_to)
    popup = mode == ConnectMode.popup
    posts_to = popup_origin(settings, return_to, request_origin) if popup else None
    account = await accounts.get(session, principal, account_id)
    for_ads = account.platform == Platform.tiktok_ads
    if for_ads:
        ads.business_or_raise(business)
        waiting = "the advertiser to approve on TikTok for Business"
        data: dict[str, object] = {"platform": account.platform.value}
    elif tiktok is None:
        raise TikTokNotConfigured
    else:
        waiting = "the user to approve on TikTok"
        data = {"scopes": settings.tiktok_scope_list, "pkce": settings.tiktok_pkce}
    state = codec.new_state(mode.value, posts_to)
    payload = OAuthState(
        state=state,
        verifier=None if for_ads or settings.tiktok_pkce == "off" else pkce.new_verifier(),
        account_id=str(account.id),
        company_id=principal.company_id,
        user=principal.actor,
        platform=account.platform.value,
        expires_at=(utcnow() + timedelta(seconds=codec.ttl)).timestamp(),
        return_to=return_to,
        mode=mode.value,
    )
    cookie_value = codec.sign(payload)
    hop = f"{settings.api_base_url.rstrip('/')}{OAUTH_PATH}start/tiktok/"
    audit.record(
        session,
        event="connect.started",
        company_id=principal.company_id,
        account_id=account.id,
        message=f"Connect started; waiting for {waiting}.",
        data=data | {"mode": mode.value},
        actor=principal.actor,
    )
    return ConnectStart(
        authorization_url=f"{hop}?ticket={quote(codec.ticket(cookie_value))}",
        state=state,
        cookie_name=cookie_name(state),
        cookie_value=cookie_value,
    )


def authorize_url(
    payload: OAuthState,
    settings: Settings,
    tiktok: TikTokClient | None,
    business: TikTokBusinessClient | None,
) -> str:
    """Where the hop sends the browser: the consent page of the payload's platform."""
    if payload.platform == Platform.tiktok_ads.value:
        return ads.business_or_raise(business).authorize_url(
            state=payload.state, redirect_uri=settings.tiktok_business_redirect
        )
    if tiktok is None:
        raise TikTokNotConfigured
    return tiktok_authorize_url(payload, settings, tiktok)


def tiktok_authorize_url(payload: OAuthState, settings: Settings, tiktok: TikTokClient) -> str:
    challenge = pkce.challenge(payload.verifier, settings.tiktok_pkce) if payload.verifier else None
    return tiktok.authorize_url(
        state=payload.state,
        scopes=settings.tiktok_scope_list,
        redirect_uri=settings.tiktok_redirect,
        code_challenge=challenge,
    )


async def consume_state(
    sessionmaker: async_sessionmaker[AsyncSession], codec: StateCodec, payload: OAuthState
) -> bool:
    """Record the state as used, in its own committed transaction, so it stays used
    whatever happens next; False if it was used before (a replayed callback)."""
    row = ConsumedOAuthState(
        state_hash=state_hash(payload.state),
        expires_at=utcnow() + timedelta(seconds=codec.ttl),
    )
    try:
        async with session_scope(sessionmaker) as session:
            session.add(row)
    except IntegrityError:
        logger.warning("oauth state replayed", extra={"account_id": payload.account_id})
        return False
    return True


async def open_callback(
    codec: StateCodec,
    sessionmaker: async_sessionmaker[AsyncSession],
    cookie_value: str | None,
    state: str | None,
    platform: Platform,
    log: logging.Logger,
    label: str,
) -> OAuthState | CallbackResult:
    """The first steps of every callback: verify the state cookie, check it was issued for
    this callback's platform, and consume the state. A `CallbackResult` means: stop here."""
    try:
        payload = codec.verify(cookie_value, state, utcnow())
    except StateError as exc:
        log.info(f"{label} callback refused", extra={"reason": exc.reason, "error": exc.code})
        return CallbackResult(None, exc.code)
    if payload.platform != platform.value:
        log.info(f"{label} callback refused", extra={"reason": "state of another platform"})
        return CallbackResult(None, ConnectError.invalid_state)
    if not await consume_state(sessionmaker, codec, payload):
        return CallbackResult(payload.account_uuid, ConnectError.invalid_state)
    return payload


def refusal(
    error: str | None, description: str | None, *, missing: str
) -> tuple[str, dict[str, object]]:
    """The frontend's error code and the log data for a callback that carries no code."""
    code = error if error in KNOWN_TIKTOK_ERRORS else TikTokError.code
    data: dict[str, object] = {
        "tiktok_error": (error or missing)[:64],
        "description": (description or "")[:300],
    }
    return code or TikTokError.code, data


def record_connect_failure(
    session: AsyncSession,
    account: IntegrationAccount,
    payload: OAuthState,
    error: str,
    data: dict[str, object],
) -> CallbackResult:
    audit.record(
        session,
        event="connect.failed",
        company_id=account.company_id,
        account_id=account.id,
        level=LogLevel.warning,
        actor=payload.user,
        message=f"Connect failed: {error}.",
        data={"error": error, **data},
    )
    return CallbackResult(account.id, error)


@dataclass(frozen=True, slots=True)
class CallbackParams:
    code: str | None
    state: str | None
    scopes: str | None
    error: str | None
    error_description: str | None


class CallbackService:
    """Finishes a Login Kit connect. Each failure is logged on the account when known."""

    def __init__(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        codec: StateCodec,
        tiktok: TikTokClient,
        cipher: TokenCipher,
    ) -> None:
        self.session = session
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.codec = codec
        self.tiktok = tiktok
        self.cipher = cipher

    async def finish(self, params: CallbackParams, cookie_value: str | None) -> CallbackResult:
        opened = await open_callback(
            self.codec,
            self.sessionmaker,
            cookie_value,
            params.state,
            Platform.tiktok,
            logger,
            "oauth",
        )
        if isinstance(opened, CallbackResult):
            return opened
        payload = opened
        account_id = payload.account_uuid
        # TikTok is called before the request's session opens a transaction: on SQLite that
        # transaction is the database-wide write lock, which must not wait on TikTok.
        tokens: TokenSet | None = None
        failure: tuple[str, dict[str, object]] | None = None
        if params.error or not params.code:
            failure = refusal(params.error, params.error_description, missing="missing code")
        else:
            try:
                tokens = await self.tiktok.exchange_code(
                    code=params.code,
                    redirect_uri=self.settings.tiktok_redirect,
                    code_verifier=payload.verifier,
                )
            except TikTokError as exc:
                failure = (TikTokCodeRejected.code, exc.log_data())
        user, profile_error = await self._user_info(tokens) if tokens else (None, None)

        account = await repository.get(self.session, payload.company_id, account_id)
        if account is None:
            return CallbackResult(None, AccountNotFound.code)
        if failure is not None or tokens is None:
            code, data = failure or (TikTokCodeRejected.code, {})
            return record_connect_failure(self.session, account, payload, code, data)
        conflict = await self._identity_conflict(account, tokens.open_id)
        if conflict:
            # Not revoked: at TikTok a revoke may end the user's whole authorization, which
            # the other (already connected) account still relies on.
            return record_connect_failure(
                self.session, account, payload, conflict, {"open_id": tokens.open_id}
            )
        if profile_error is not None:
            audit.record(
                self.session,
                event="profile.fetch_failed",
                company_id=account.company_id,
                account_id=account.id,
                level=LogLevel.warning,
                message=f"Connected, but the profile could not be fetched ({profile_error.code}).",
                data=profile_error.log_data(),
            )
        self._connect(account, payload, tokens, user)
        return CallbackResult(account.id)

    async def _identity_conflict(self, account: IntegrationAccount, open_id: str) -> str | None:
        reconnecting = account.status in (AccountStatus.connected, AccountStatus.reauth_required)
        if reconnecting and account.external_id and account.external_id != open_id:
            return ConnectError.account_mismatch
        linked = await repository.find_by_external_id(
            self.session, account.company_id, Platform.tiktok, open_id
        )
        others = [
            other
            for other in linked
            if other.id != account.id and other.status != AccountStatus.disconnected
        ]
        return ConnectError.already_connected if others else None

    async def _user_info(self, tokens: TokenSet) -> tuple[TikTokUser | None, TikTokError | None]:
        """The profile; a failure does not fail the connect (the next sync fetches it)."""
        try:
            user = await self.tiktok.user_info(
                tokens.access_token.get_secret_value(), tokens.scopes
            )
        except TikTokError as exc:
            return None, exc
        return user, None

    def _connect(
        self,
        account: IntegrationAccount,
        payload: OAuthState,
        tokens: TokenSet,
        user: TikTokUser | None,
    ) -> None:
        now = utcnow()
        store.store_tokens(account, tokens, self.cipher, now)
        account.granted_scopes = ",".join(tokens.scopes)
        account.external_id = tokens.open_id
        if user is not None:
            account.union_id = user.union_id or account.union_id
            account.username = user.username or account.username
            account.display_name = user.display_name or account.display_name
            account.avatar_url = user.avatar_url or account.avatar_url
        lifecycle.connected(
            self.session,
            account,
            now=now,
            actor=payload.user,
            message=f"Connected to TikTok as {account.display_name or tokens.open_id}.",
            data={"open_id": tokens.open_id, "scopes": tokens.scopes},
        )


async def disconnect(
    session: AsyncSession,
    principal: Principal,
    account_id: uuid.UUID,
    tiktok: TikTokClient | None,
    tokens: TokenManager,
    ads_service: AdsService,
    *,
    reason: str = "disconnected by user",
) -> IntegrationAccount:
    """Revoke at TikTok (refreshing first if needed), then wipe tokens whatever TikTok said
    and whatever they hold: a token that no longer decrypts is not revoked, only wiped.

    An ads account also has its lead webhooks unsubscribed first, and its advertisers
    unlinked: their later leads are kept unassigned until some account connects them.
    """
    revoke_note = await revoke_quietly(principal, account_id, tiktok, tokens, ads_service)
    account = await accounts.get(session, principal, account_id)
    store.wipe_tokens(account)
    if account.platform == Platform.tiktok_ads:
        revoke_note["advertisers_unlinked"] = await ads.forget(
            session, account, "account_disconnected: the account was disconnected"
        )
    lifecycle.disconnected(
        session,
        account,
        reason=lifecycle.DisconnectReason.user,
        audit_event="account.disconnected",
        actor=principal.actor,
        level=LogLevel.info if revoke_note["revoked"] else LogLevel.warning,
        message=f"Disconnected ({reason}); tokens wiped.",
        data=revoke_note,
    )
    await session.flush()
    return account


async def revoke_quietly(
    principal: Principal,
    account_id: uuid.UUID,
    tiktok: TikTokClient | None,
    tokens: TokenManager,
    ads_service: AdsService,
) -> dict[str, object]:
    """Best effort: a failure is reported (and logged by the caller), never blocking. A
    token that cannot be read is not sent (`revoke_skipped: token_unreadable`).

    Call it before the request's session has begun a transaction (TikTok is called here).
    """
    released = await ads_service.release(principal.company_id, account_id)
    if released is not None:
        return released
    try:
        token = await tokens.get(account_id, principal.company_id)
    except TokenUnreadable:
        return {"revoked": False, "revoke_skipped": unreadable.ERROR_CODE}
    except (AccountNotConnected, NotALoginKitAccount, ReauthRequired) as exc:
        return {"revoked": False, "revoke_skipped": exc.code}
    except TikTokError as exc:
        return {"revoked": False, **exc.log_data()}
    if tiktok is None:
        return {"revoked": False, "revoke_skipped": TikTokNotConfigured.code}
    try:
        await tiktok.revoke(token.value)
    except TikTokError as exc:
        return {"revoked": False, **exc.log_data()}
    return {"revoked": True}
