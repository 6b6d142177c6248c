"""Ads accounts (TikTok for Business advertisers): their advertisers, lead forms, backfill
requests, and letting go of TikTok on disconnect or delete.

Every call with an account's token goes through the token manager (`call`), as Login Kit's
do: a token that expires is refreshed ahead of time, once; a refused one (40102) is refreshed
and the call retried once; a token TikTok keeps refusing flags the account
`reauth_required`. A long-term token (no expiry, no refresh token) is used as it is.

TikTok is never called inside a database transaction: on SQLite a transaction is the
database-wide write lock. So the account and its advertisers are read in a short session
first (`access`), TikTok is called, and what it answered is written in another short
transaction. Nothing here commits a session it was given; `session_scope` commits the ones
it opens.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import repository as accounts_repository
from app.accounts import service as accounts
from app.accounts.errors import (
    AccountNotConnected,
    AccountNotFound,
    NotAnAdsAccount,
    ReauthRequired,
)
from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.ads import repository
from app.ads.models import BackfillJob, BackfillStatus, Reconciliation
from app.ads.schemas import LeadFormOut
from app.advertisers import repository as advertisers
from app.advertisers.models import TikTokAdvertiser
from app.audit import service as audit
from app.core.config import Settings
from app.core.crypto import TokenCipher
from app.core.db import session_scope, utcnow
from app.core.errors import AppError, NotFound
from app.core.security import Principal
from app.tiktok.business import TikTokBusinessClient
from app.tiktok.business_schemas import LeadForm
from app.tiktok.errors import TikTokError, TikTokNotConfigured, TikTokReauthRequired
from app.tokens import unreadable
from app.tokens.errors import TokenUnreadable
from app.tokens.grants import BUSINESS_NOT_CONFIGURED
from app.tokens.manager import AccessToken, TokenManager
from app.tokens.store import ACCESS

logger = logging.getLogger("app.ads")
T = TypeVar("T")

FORMS_PAGE_SIZE = 50
# A safety stop for a paging answer that never ends (50 forms a page: 5,000 forms).
MAX_FORM_PAGES = 100


class BackfillNotFound(NotFound):
    code = "backfill_not_found"
    message = "No such backfill job for this account."


@dataclass(frozen=True, slots=True)
class AdvertiserRef:
    advertiser_id: str
    advertiser_name: str | None
    subscription_id: str | None


@dataclass(frozen=True, slots=True)
class AdsAccess:
    """A connected ads account and its advertisers, read in one short session; its token is
    fetched for each call (`AdsService.call`), so a long job never holds an expired one."""

    account_id: uuid.UUID
    company_id: str
    advertisers: tuple[AdvertiserRef, ...]


def business_or_raise(business: TikTokBusinessClient | None) -> TikTokBusinessClient:
    if business is None:
        raise TikTokNotConfigured(BUSINESS_NOT_CONFIGURED)
    return business


def ensure_connected_ads(account: IntegrationAccount) -> None:
    if account.platform != Platform.tiktok_ads:
        raise NotAnAdsAccount
    if account.status == AccountStatus.reauth_required:
        raise ReauthRequired
    if account.status != AccountStatus.connected or account.access_token_ciphertext is None:
        raise AccountNotConnected


def decrypt_token(account: IntegrationAccount, cipher: TokenCipher) -> str | None:
    """The account's stored access token; None when it has none or it no longer decrypts."""
    try:
        return unreadable.read(account, cipher, ACCESS)
    except TokenUnreadable:
        return None


class AdsService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        cipher: TokenCipher,
        business: TikTokBusinessClient | None,
        settings: Settings,
        tokens: TokenManager,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.cipher = cipher
        self.business = business
        self.settings = settings
        self.tokens = tokens

    def client(self) -> TikTokBusinessClient:
        return business_or_raise(self.business)

    async def access(self, company_id: str, account_id: uuid.UUID) -> AdsAccess:
        """The connected ads account and its advertisers, or why there are none."""
        async with self.sessionmaker() as session:
            account = await accounts_repository.get(session, company_id, account_id)
            if account is None:
                raise AccountNotFound
            ensure_connected_ads(account)
            rows = await advertisers.advertisers_of_account(session, account.id)
        return AdsAccess(
            account_id=account.id,
            company_id=account.company_id,
            advertisers=tuple(
                AdvertiserRef(row.advertiser_id, row.advertiser_name, row.subscription_id)
                for row in rows
            ),
        )

    async def call(self, access: AdsAccess, request: Callable[[str], Awaitable[T]]) -> T:
        """`request(token)` with a valid token of the account (see the module docstring)."""

        async def send(token: AccessToken) -> T:
            return await request(token.value)

        return await self.tokens.call(
            access.account_id, access.company_id, send, platform=Platform.tiktok_ads
        )

    async def read_token(self, account: IntegrationAccount) -> str | None:
        """The account's token (None when it has none); one that no configured key decrypts
        flags the account `reauth_required` and raises `TokenUnreadable`."""
        try:
            return unreadable.read(account, self.cipher, ACCESS)
        except TokenUnreadable as exc:
            async with session_scope(self.sessionmaker) as session:
                await unreadable.flag(session, exc)
            raise

    async def _token_to_revoke(self, account: IntegrationAccount) -> str | None:
        """The stored token; refreshed first when it has expired, since TikTok refuses to
        revoke an expired token while the authorization lives on in its refresh token."""
        token = await self.read_token(account)
        expires = account.access_token_expires_at
        if token is None or account.status != AccountStatus.connected or expires is None:
            return token
        if expires > utcnow():
            return token
        with contextlib.suppress(AppError):  # best effort: the stored token is tried then
            fresh = await self.tokens.get(
                account.id, account.company_id, platform=Platform.tiktok_ads
            )
            token = fresh.value
        return token

    async def forms_of(self, access: AdsAccess, advertiser_id: str) -> list[LeadForm]:
        """Every Instant Form of the advertiser, all pages."""
        client = self.client()
        forms: list[LeadForm] = []
        for page in range(1, MAX_FORM_PAGES + 1):
            answer = await self.call(
                access,
                partial(
                    client.lead_forms,
                    advertiser_id=advertiser_id,
                    page=page,
                    page_size=FORMS_PAGE_SIZE,
                ),
            )
            forms.extend(answer.forms)
            if not answer.forms or page >= answer.total_page:
                break
        return forms

    async def lead_forms(self, principal: Principal, account_id: uuid.UUID) -> list[LeadFormOut]:
        access = await self.access(principal.company_id, account_id)
        items: list[LeadFormOut] = []
        for advertiser in access.advertisers:
            for form in await self.forms_of(access, advertiser.advertiser_id):
                items.append(
                    LeadFormOut(
                        advertiser_id=advertiser.advertiser_id,
                        form_id=form.page_id,
                        title=form.title,
                        status=form.status,
                        created_at=form.create_time,
                    )
                )
        return items

    async def release(self, company_id: str, account_id: uuid.UUID) -> dict[str, Any] | None:
        """Before a disconnect or delete: unsubscribe the lead webhooks and revoke the token,
        best effort (failures are reported, never raised). None if not an ads account.

        A token that no longer decrypts is not revoked (it cannot be read); the account is
        flagged for it and the caller wipes it."""
        async with self.sessionmaker() as session:
            account = await accounts_repository.get(session, company_id, account_id)
            if account is None or account.platform != Platform.tiktok_ads:
                return None
            rows = await advertisers.advertisers_of_account(session, account.id)
        skipped: str = AccountNotConnected.code
        try:
            token = await self._token_to_revoke(account)
        except TokenUnreadable:
            token, skipped = None, unreadable.ERROR_CODE
        subscriptions = [row.subscription_id for row in rows if row.subscription_id]
        if self.business is None:
            return {"revoked": False, "revoke_skipped": TikTokNotConfigured.code}
        unsubscribed = 0
        failed: list[dict[str, Any]] = []
        for subscription_id in subscriptions:
            try:
                await self.business.unsubscribe(subscription_id)
            except TikTokError as exc:
                failed.append({"subscription_id": subscription_id, **exc.log_data()})
            else:
                unsubscribed += 1
        note: dict[str, Any] = {"unsubscribed": unsubscribed}
        if failed:
            note["unsubscribe_failed"] = failed
        if token is None:
            return {"revoked": False, "revoke_skipped": skipped, **note}
        try:
            await self.business.revoke(token)
        except TikTokReauthRequired:
            return {"revoked": True, "already_revoked": True, **note}
        except TikTokError as exc:
            return {"revoked": False, **exc.log_data(), **note}
        return {"revoked": True, **note}

    async def start_backfill(
        self,
        session: AsyncSession,
        principal: Principal,
        account_id: uuid.UUID,
        form_id: str | None,
    ) -> BackfillJob:
        """Queue a backfill; while one of the account's is queued or running, that one."""
        account = await accounts.get(session, principal, account_id)
        ensure_connected_ads(account)
        active = await repository.active_backfill(session, account.id)
        if active is not None:
            return active
        job = BackfillJob(
            id=uuid.uuid4(),
            company_id=account.company_id,
            account_id=account.id,
            form_id=form_id,
            status=BackfillStatus.queued,
            forms_total=0,
            forms_done=0,
            leads_seen=0,
            leads_created=0,
            completed_forms=[],
            attempts=0,
            created_by=principal.actor,
            created_at=utcnow(),
        )
        session.add(job)
        audit.record(
            session,
            event="leads.backfill_requested",
            company_id=account.company_id,
            account_id=account.id,
            actor=principal.actor,
            message="Backfill of leads from TikTok's lead export queued"
            + (f" (form {form_id})." if form_id else " (every form)."),
            data={"backfill_id": str(job.id), "form_id": form_id},
        )
        await session.flush()
        return job


async def get_backfill(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID, job_id: uuid.UUID
) -> BackfillJob:
    await accounts.get(session, principal, account_id)
    job = await repository.get_backfill(session, principal.company_id, account_id, job_id)
    if job is None:
        raise BackfillNotFound
    return job


async def list_reconciliations(
    session: AsyncSession,
    principal: Principal,
    account_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> list[Reconciliation]:
    account = await accounts.get(session, principal, account_id)
    if account.platform != Platform.tiktok_ads:
        raise NotAnAdsAccount
    return await repository.list_reconciliations(
        session, principal.company_id, account.id, cursor, limit
    )


async def list_advertisers(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID
) -> list[TikTokAdvertiser]:
    account = await accounts.get(session, principal, account_id)
    if account.platform != Platform.tiktok_ads:
        raise NotAnAdsAccount
    return await advertisers.advertisers_of_account(session, account.id)


async def forget(session: AsyncSession, account: IntegrationAccount, reason: str) -> int:
    """On disconnect: unlink the account's advertisers (their later leads stay unassigned)
    and stop its backfills; how many advertisers were unlinked."""
    await repository.fail_active_backfills(session, account.id, reason, utcnow())
    return await advertisers.forget_advertisers(session, account.id)
