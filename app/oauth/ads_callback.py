"""Finishing a TikTok for Business connect: the advertiser OAuth callback.

The start and the first-party hop are shared with Login Kit (`app.oauth`): same signed
state cookie, no PKCE. Here the callback checks the cookie, exchanges the auth code for the
token (long-term, or expiring with a refresh token: whatever TikTok answers is stored, see
`app.tokens.store`), lists the advertisers it covers, links them to the account (attaching
the leads that arrived before), then subscribes each advertiser's lead webhooks.

TikTok is never called inside a transaction (on SQLite that is the database-wide write
lock): the calls happen between short transactions of their own. A subscription that fails
is logged and left to the subscription checker; it does not fail the connect.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import lifecycle
from app.accounts import repository as accounts_repository
from app.accounts.errors import AccountNotFound
from app.accounts.models import IntegrationAccount, Platform
from app.ads.service import AdsService, decrypt_token
from app.advertisers import repository
from app.advertisers.models import TikTokAdvertiser
from app.advertisers.subscriptions import subscribe_all, webhook_url
from app.audit import service as audit
from app.audit.models import LogLevel
from app.core.db import session_scope, utcnow
from app.leads import service as leads
from app.oauth.errors import ConnectError
from app.oauth.service import (
    CallbackResult,
    open_callback,
    record_connect_failure,
    refusal,
)
from app.oauth.state import OAuthState, StateCodec
from app.tiktok.business import TikTokBusinessClient
from app.tiktok.business_schemas import Advertiser, BusinessToken
from app.tiktok.errors import (
    TikTokCodeRejected,
    TikTokError,
    TikTokNotConfigured,
    TikTokReauthRequired,
)
from app.tokens import store

logger = logging.getLogger("app.oauth.ads_callback")
MAX_DISPLAY_NAME = 255


@dataclass(frozen=True, slots=True)
class AdsCallbackParams:
    auth_code: str | None
    state: str | None
    error: str | None
    error_description: str | None


@dataclass(frozen=True, slots=True)
class _Grant:
    tokens: BusinessToken
    advertisers: list[Advertiser]

    @property
    def token(self) -> str:
        return self.tokens.access_token.get_secret_value()


@dataclass(frozen=True, slots=True)
class _Linked:
    """What a successful link leaves for after its commit: what to subscribe and retire."""

    advertiser_ids: list[str]
    previous_token: str | None = field(repr=False)
    previous_subscriptions: list[str]


class _Failed(Exception):
    def __init__(self, error: str, data: dict[str, Any]) -> None:
        super().__init__(error)
        self.error = error
        self.data = data


class AdsCallbackService:
    def __init__(self, ads: AdsService, codec: StateCodec) -> None:
        self.ads = ads
        self.codec = codec

    async def finish(self, params: AdsCallbackParams, cookie_value: str | None) -> CallbackResult:
        opened = await open_callback(
            self.codec,
            self.ads.sessionmaker,
            cookie_value,
            params.state,
            Platform.tiktok_ads,
            logger,
            "ads",
        )
        if isinstance(opened, CallbackResult):
            return opened
        payload = opened
        account_id = payload.account_uuid
        client = self.ads.business
        try:
            if client is None:
                raise _Failed(TikTokNotConfigured.code, {})
            grant = await self._authorize(client, params)
            linked = await self._link(payload, grant)
        except _Failed as failure:
            return await self._fail(payload, failure)
        if linked is None:
            return CallbackResult(None, AccountNotFound.code)
        await self._subscribe(client, payload, grant.token, linked.advertiser_ids)
        await self._retire(client, payload, grant.token, linked)
        return CallbackResult(account_id)

    async def _authorize(self, client: TikTokBusinessClient, params: AdsCallbackParams) -> _Grant:
        """The token and its advertisers, from TikTok (no transaction is open)."""
        # TikTok documents no refusal redirect: whatever else it holds, no code is a refusal.
        if params.error or not params.auth_code:
            raise _Failed(
                *refusal(params.error, params.error_description, missing="missing auth_code")
            )
        try:
            token: BusinessToken = await client.exchange_auth_code(params.auth_code)
        except TikTokError as exc:
            raise _Failed(TikTokCodeRejected.code, exc.log_data()) from exc
        access = token.access_token.get_secret_value()
        try:
            named = await client.advertisers(access)
        except TikTokError as exc:
            # The ids come with the token; names are a nicety.
            logger.warning("advertiser names unavailable", extra=exc.log_data())
            named = []
        names = {advertiser.advertiser_id: advertiser.advertiser_name for advertiser in named}
        ids = list(dict.fromkeys(token.advertiser_ids or list(names)))
        if not ids:
            raise _Failed(ConnectError.no_advertisers, {})
        advertisers = [Advertiser(advertiser_id=i, advertiser_name=names.get(i)) for i in ids]
        return _Grant(tokens=token, advertisers=advertisers)

    async def _link(self, payload: OAuthState, grant: _Grant) -> _Linked | None:
        """Store the token, link the advertisers, attach their waiting leads: one commit."""
        ids = [advertiser.advertiser_id for advertiser in grant.advertisers]
        try:
            async with session_scope(self.ads.sessionmaker) as session:
                account = await accounts_repository.get(
                    session, payload.company_id, payload.account_uuid, for_update=True
                )
                if account is None:
                    return None
                links = await repository.advertiser_links(session, ids)
                taken = sorted(row.advertiser_id for row in links if row.account_id != account.id)
                if taken:
                    # Not revoked: a revoke might end the authorization the owner relies on.
                    raise _Failed(ConnectError.already_connected, {"advertiser_ids": taken})
                linked = await self._store(session, account, grant, payload)
        except IntegrityError as exc:
            # Another account linked one of these advertisers at the same moment.
            raise _Failed(ConnectError.already_connected, {"advertiser_ids": ids}) from exc
        return linked

    async def _store(
        self,
        session: AsyncSession,
        account: IntegrationAccount,
        grant: _Grant,
        payload: OAuthState,
    ) -> _Linked:
        now = utcnow()
        ids = [advertiser.advertiser_id for advertiser in grant.advertisers]
        previous = (
            decrypt_token(account, self.ads.cipher) if account.access_token_ciphertext else None
        )
        rows = await repository.advertisers_of_account(session, account.id)
        existing = {row.advertiser_id: row for row in rows}
        previous_subscriptions = [row.subscription_id for row in rows if row.subscription_id]
        for row in rows:
            if row.advertiser_id not in ids:
                await session.delete(row)
        for advertiser in grant.advertisers:
            linked = existing.get(advertiser.advertiser_id)
            if linked is None:
                session.add(
                    TikTokAdvertiser(
                        id=uuid.uuid4(),
                        advertiser_id=advertiser.advertiser_id,
                        company_id=account.company_id,
                        account_id=account.id,
                        advertiser_name=advertiser.advertiser_name,
                        created_at=now,
                    )
                )
            else:
                linked.advertiser_name = advertiser.advertiser_name or linked.advertiser_name
                linked.subscription_id = None
                linked.subscribed_at = None
        # No `expires_in`: a long-term token (no expiry, no refresh token).
        store.store_tokens(account, grant.tokens, self.ads.cipher, now)
        account.granted_scopes = ",".join(grant.tokens.scopes) or None
        names = [a.advertiser_name or a.advertiser_id for a in grant.advertisers]
        account.display_name = ", ".join(names)[:MAX_DISPLAY_NAME]
        await session.flush()
        attached = 0
        for advertiser_id in ids:
            attached += await leads.attach_unassigned(
                session, advertiser_id, account.company_id, self.ads.settings
            )
        lifecycle.connected(
            session,
            account,
            now=now,
            actor=payload.user,
            message=f"Connected to TikTok for Business: {account.display_name}"
            + (f"; {attached} leads received earlier attached." if attached else "."),
            data={"advertiser_ids": ids, "leads_attached": attached},
        )
        return _Linked(
            advertiser_ids=ids,
            previous_token=previous if previous != grant.token else None,
            previous_subscriptions=previous_subscriptions,
        )

    async def _subscribe(
        self,
        client: TikTokBusinessClient,
        payload: OAuthState,
        token: str,
        advertiser_ids: list[str],
    ) -> None:
        subscribed, failed = await subscribe_all(
            client, token, advertiser_ids, webhook_url(self.ads.settings)
        )
        now = utcnow()
        async with session_scope(self.ads.sessionmaker) as session:
            stored = [
                advertiser_id
                for advertiser_id, subscription_id in subscribed.items()
                if await repository.set_subscription(
                    session, payload.account_uuid, advertiser_id, subscription_id, now
                )
            ]
            await repository.mark_checked(session, stored, now)
            if stored:
                audit.record(
                    session,
                    event="leads.subscribed",
                    company_id=payload.company_id,
                    account_id=payload.account_uuid,
                    message=f"Lead webhooks subscribed for {len(stored)} advertiser(s).",
                    data={"subscriptions": {a: subscribed[a] for a in stored}},
                )
            for advertiser_id, error in failed.items():
                audit.record(
                    session,
                    event="leads.subscribe_failed",
                    company_id=payload.company_id,
                    account_id=payload.account_uuid,
                    level=LogLevel.warning,
                    message=f"Lead webhooks of advertiser {advertiser_id} could not be "
                    f"subscribed ({error.code}); the subscription checker will retry.",
                    data={"advertiser_id": advertiser_id, **error.log_data()},
                )

    async def _retire(
        self, client: TikTokBusinessClient, payload: OAuthState, token: str, linked: _Linked
    ) -> None:
        """After a reconnect: drop the previous subscriptions and revoke the previous token
        (best effort, logged), so leads are not delivered twice."""
        async with self.ads.sessionmaker() as session:
            current = {
                row.subscription_id
                for row in await repository.advertisers_of_account(session, payload.account_uuid)
            }
        stale = [s for s in linked.previous_subscriptions if s not in current]
        note: dict[str, Any] = {}
        for subscription_id in stale:
            try:
                await client.unsubscribe(subscription_id)
            except TikTokError as exc:
                note.setdefault("unsubscribe_failed", []).append(
                    {"subscription_id": subscription_id, **exc.log_data()}
                )
        if linked.previous_token is not None and linked.previous_token != token:
            try:
                await client.revoke(linked.previous_token)
            except TikTokReauthRequired:
                pass  # already dead
            except TikTokError as exc:
                note["revoke_failed"] = exc.log_data()
        if not stale and linked.previous_token is None:
            return
        async with session_scope(self.ads.sessionmaker) as session:
            audit.record(
                session,
                event="connect.previous_released",
                company_id=payload.company_id,
                account_id=payload.account_uuid,
                level=LogLevel.warning if note else LogLevel.info,
                message="Reconnected: the previous token and lead webhook subscriptions were "
                "released.",
                data={"unsubscribed": len(stale), **note},
            )

    async def _fail(self, payload: OAuthState, failure: _Failed) -> CallbackResult:
        async with session_scope(self.ads.sessionmaker) as session:
            account = await accounts_repository.get(
                session, payload.company_id, payload.account_uuid
            )
            if account is None:
                return CallbackResult(None, AccountNotFound.code)
            return record_connect_failure(session, account, payload, failure.error, failure.data)
