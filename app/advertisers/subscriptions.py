"""Lead webhook subscriptions: made for each advertiser when it connects, then kept alive.

TikTok stops an advertiser's subscription silently when its token is revoked (and gives no
notice of a lost one), so a periodic check lists each connected advertiser's subscriptions
and re-creates a missing one. The check uses the account's token through the token manager
(refreshed when it expires, like every ads call). When TikTok refuses the token itself,
nothing can be re-created until the account is reconnected: the token manager flags the
account `reauth_required` and the check logs the lost subscription.

TikTok is called outside any transaction; what it answered is written in a short one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.errors import ReauthRequired
from app.accounts.models import Platform
from app.advertisers import repository
from app.advertisers.repository import ClaimedCheck
from app.audit import service as audit
from app.audit.models import LogLevel
from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.core.errors import AppError
from app.core.http import API_PREFIX
from app.events import outbox
from app.events.models import EventType
from app.tiktok.business import TikTokBusinessClient
from app.tiktok.business_schemas import LeadSubscription
from app.tiktok.errors import TikTokError
from app.tokens.errors import TokenUnreadable
from app.tokens.manager import AccessToken, TokenManager
from app.tokens.unreadable import ERROR_CODE as TOKEN_UNREADABLE

logger = logging.getLogger("app.advertisers.subscriptions")

WEBHOOK_PATH = f"{API_PREFIX}/webhooks/tiktok-leadgen/"
# After a failed check (TikTok unavailable, rate limited), when to try that advertiser again.
RETRY_AFTER = timedelta(minutes=5)


class CheckerContext(Protocol):
    """What the checker runs on (the runtime, or the ads service, has all of it)."""

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def business(self) -> TikTokBusinessClient | None: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def tokens(self) -> TokenManager: ...


def webhook_url(settings: Settings) -> str:
    """The callback URL subscriptions deliver to, with `?token=` when one is configured.

    It may hold a secret: never log it.
    """
    url = settings.api_base_url.rstrip("/") + WEBHOOK_PATH
    token = settings.leadgen_webhook_token
    if token is not None and token.get_secret_value():
        url += "?" + urlencode({"token": token.get_secret_value()})
    return url


async def subscribe_all(
    client: TikTokBusinessClient, token: str, advertiser_ids: Sequence[str], callback_url: str
) -> tuple[dict[str, str], dict[str, TikTokError]]:
    """Subscribe each advertiser's leads: ({advertiser: subscription}, {advertiser: error})."""
    subscribed: dict[str, str] = {}
    failed: dict[str, TikTokError] = {}
    for advertiser_id in advertiser_ids:
        try:
            subscribed[advertiser_id] = await client.subscribe_leads(
                token, advertiser_id, callback_url
            )
        except TikTokError as exc:
            failed[advertiser_id] = exc
    return subscribed, failed


def _ours(live: Sequence[LeadSubscription], claim: ClaimedCheck, callback_url: str) -> str | None:
    """Our live subscription among the app's: the stored one, else one to our URL."""
    ids = {subscription.subscription_id for subscription in live}
    if claim.subscription_id in ids:
        return claim.subscription_id
    for subscription in live:
        if (
            subscription.callback_url == callback_url
            and subscription.page_id is None
            and subscription.advertiser_id in (None, claim.advertiser_id)
        ):
            return subscription.subscription_id
    return None


async def check_subscription(
    context: CheckerContext, client: TikTokBusinessClient, claim: ClaimedCheck
) -> None:
    """Make sure the claimed advertiser's lead webhooks still arrive; records the outcome."""
    interval = timedelta(seconds=context.settings.leads_subscription_check_interval_seconds)
    callback_url = webhook_url(context.settings)

    async def ensure(token: AccessToken) -> tuple[str, bool]:
        """(our live subscription, whether it had to be re-created)."""
        live = await client.subscriptions(token.value, claim.advertiser_id)
        found = _ours(live, claim, callback_url)
        if found is not None:
            return found, False
        return await client.subscribe_leads(token.value, claim.advertiser_id, callback_url), True

    try:
        subscription_id, recreated = await context.tokens.call(
            claim.account_id, claim.company_id, ensure, platform=Platform.tiktok_ads
        )
    except TokenUnreadable:  # the account is flagged `reauth_required` for it
        await _settle_failure(context, claim, TOKEN_UNREADABLE, interval)
        return
    except ReauthRequired as exc:
        await _lost(context, claim, exc)
        return
    except TikTokError as exc:
        logger.warning(
            "lead subscription check failed",
            extra={"advertiser_id": claim.advertiser_id, **exc.log_data()},
        )
        await _settle_failure(context, claim, exc.code, min(interval, RETRY_AFTER))
        return
    except AppError as exc:  # disconnected or gone meanwhile
        await _settle_failure(context, claim, exc.code, interval)
        return
    now = utcnow()
    async with session_scope(context.sessionmaker) as session:
        # Settled first: the rest is written only while the advertiser is still ours (on
        # PostgreSQL the settle's row lock keeps it so until this transaction commits).
        settled = await repository.check_passed(session, claim, now)
        stored = settled and (
            subscription_id == claim.subscription_id
            or await repository.set_subscription(
                session, claim.account_id, claim.advertiser_id, subscription_id, now
            )
        )
        if recreated and stored:
            _restored(session, claim, subscription_id)
    if not settled:
        _lease_lost(claim, "passed")
    if recreated and not stored:
        # Not ours to keep: the advertiser was disconnected meanwhile, or our lease lapsed
        # and the check is another checker's now. Take back what was just made: left, it
        # would be adopted unannounced (no restored event, no backfill advised) or, if the
        # holder made its own, duplicate every delivery for good. Should the holder have
        # adopted it in the moment before this, its next check re-creates it, announced.
        try:
            await client.unsubscribe(subscription_id)
        except TikTokError as exc:
            logger.warning("stray lead subscription kept", extra=exc.log_data())


def _lease_lost(claim: ClaimedCheck, outcome: str) -> None:
    logger.warning(
        "lead subscription check outcome dropped: the lease was lost",
        extra={"advertiser_id": claim.advertiser_id, "outcome": outcome},
    )


def _restored(session: AsyncSession, claim: ClaimedCheck, subscription_id: str) -> None:
    audit.record(
        session,
        event="leads.resubscribed",
        company_id=claim.company_id,
        account_id=claim.account_id,
        level=LogLevel.warning,
        message=f"The lead webhook subscription of advertiser {claim.advertiser_id} "
        "was gone at TikTok; it was re-created. Run a backfill to recover leads "
        "submitted meanwhile.",
        data={
            "advertiser_id": claim.advertiser_id,
            "previous_subscription_id": claim.subscription_id,
            "subscription_id": subscription_id,
        },
    )
    outbox.emit(
        session,
        EventType.leads_subscription_restored,
        company_id=claim.company_id,
        account_id=claim.account_id,
        data={
            "account_id": str(claim.account_id),
            "advertiser_id": claim.advertiser_id,
            "subscription_id": subscription_id,
            "backfill_advised": True,
        },
    )


async def _settle_failure(
    context: CheckerContext, claim: ClaimedCheck, error: str, retry_after: timedelta
) -> None:
    async with session_scope(context.sessionmaker) as session:
        retry_at = utcnow() + retry_after
        settled = await repository.check_failed(session, claim, error=error, retry_at=retry_at)
    if not settled:
        _lease_lost(claim, error)


async def _lost(context: CheckerContext, claim: ClaimedCheck, error: ReauthRequired) -> None:
    """TikTok refuses the token (the account is flagged `reauth_required` for it): the
    subscription cannot come back until a reconnect."""
    cause = error.__cause__
    details = cause.log_data() if isinstance(cause, TikTokError) else {"error": error.code}
    async with session_scope(context.sessionmaker) as session:
        if not await repository.check_failed(session, claim, error=error.code, retry_at=None):
            # Another checker holds the advertiser now: the outcome, and telling of it, is
            # its to write.
            _lease_lost(claim, error.code)
            return
        audit.record(
            session,
            event="leads.subscription_lost",
            company_id=claim.company_id,
            account_id=claim.account_id,
            level=LogLevel.error,
            message=f"Lead webhooks of advertiser {claim.advertiser_id} stopped and cannot be "
            "re-subscribed: TikTok no longer accepts the token (the advertiser may have "
            "removed the app). Reconnect the account, then run a backfill.",
            data={"advertiser_id": claim.advertiser_id, **details},
        )
        outbox.emit(
            session,
            EventType.leads_subscription_lost,
            company_id=claim.company_id,
            account_id=claim.account_id,
            data={
                "account_id": str(claim.account_id),
                "advertiser_id": claim.advertiser_id,
                "reason": error.code,
            },
        )
