"""SQL for advertisers: who owns them, their subscriptions and the checker's claims.

CRM-facing reads are scoped to one account; the rest works across companies (a lead names
an advertiser, not a company; the checker serves every company) and says so. The checker's
work is a queue over the advertiser rows (`CHECKS`, `app.core.queue`): a claim leases one
advertiser, so replicas check disjoint ones, and its outcome is written only while the lease
is still the claimer's.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.advertisers.models import TikTokAdvertiser
from app.core.queue import Claim, Fate, WorkQueue


async def owners(session: AsyncSession, advertiser_ids: Sequence[str]) -> dict[str, str]:
    """Internal: {advertiser_id: company_id} for the connected advertisers among these."""
    if not advertiser_ids:
        return {}
    query = select(TikTokAdvertiser.advertiser_id, TikTokAdvertiser.company_id).where(
        TikTokAdvertiser.advertiser_id.in_(sorted(set(advertiser_ids)))
    )
    return {advertiser: company for advertiser, company in (await session.execute(query)).all()}


async def advertisers_of_account(
    session: AsyncSession, account_id: uuid.UUID
) -> list[TikTokAdvertiser]:
    query = (
        select(TikTokAdvertiser)
        .where(TikTokAdvertiser.account_id == account_id)
        .order_by(TikTokAdvertiser.advertiser_id)
    )
    return list((await session.scalars(query)).all())


async def advertiser_links(
    session: AsyncSession, advertiser_ids: Sequence[str]
) -> list[TikTokAdvertiser]:
    """Internal (every company): the rows of these advertisers, whoever connected them."""
    query = select(TikTokAdvertiser).where(TikTokAdvertiser.advertiser_id.in_(advertiser_ids))
    return list((await session.scalars(query)).all())


async def forget_advertisers(session: AsyncSession, account_id: uuid.UUID) -> int:
    """Delete the account's advertiser rows (their subscription state goes with them); how
    many."""
    result = await session.execute(
        delete(TikTokAdvertiser)
        .where(TikTokAdvertiser.account_id == account_id)
        .returning(TikTokAdvertiser.id)
    )
    return len(result.all())


async def set_subscription(
    session: AsyncSession,
    account_id: uuid.UUID,
    advertiser_id: str,
    subscription_id: str,
    now: datetime,
) -> bool:
    """Store the advertiser's subscription if it is still this account's; whether it was."""
    result = await session.execute(
        update(TikTokAdvertiser)
        .where(
            TikTokAdvertiser.advertiser_id == advertiser_id,
            TikTokAdvertiser.account_id == account_id,
        )
        .values(subscription_id=subscription_id, subscribed_at=now)
        .returning(TikTokAdvertiser.id)
    )
    return result.first() is not None


async def mark_checked(session: AsyncSession, advertiser_ids: Sequence[str], now: datetime) -> None:
    """Record that these advertisers' subscriptions were just seen alive (a connect that
    subscribed them). An advertiser a checker holds under a live lease is left to it: its
    lease is the fence of the check's outcome, and the check records one anyway."""
    if not advertiser_ids:
        return
    lease = TikTokAdvertiser.lease_until
    await session.execute(
        update(TikTokAdvertiser)
        .where(
            TikTokAdvertiser.advertiser_id.in_(advertiser_ids),
            or_(lease.is_(None), lease < now),
        )
        .values(checked_at=now, lease_until=None, last_error=None)
    )


# Subscription checks: the advertisers of connected ads accounts, least recently checked
# first. A claim's lease is the fence (no attempts are counted); a failed check keeps its
# advertiser leased until it is due again.
CHECKS = WorkQueue(
    table=cast(Table, TikTokAdvertiser.__table__),
    lease="lease_until",
    where=TikTokAdvertiser.account_id.in_(
        select(IntegrationAccount.id).where(
            IntegrationAccount.platform == Platform.tiktok_ads,
            IntegrationAccount.status == AccountStatus.connected,
        )
    ),
    order_by=(TikTokAdvertiser.checked_at.asc().nulls_first(), TikTokAdvertiser.advertiser_id),
)


@dataclass(frozen=True, slots=True)
class ClaimedCheck:
    advertiser_id: str
    account_id: uuid.UUID
    company_id: str
    subscription_id: str | None
    claim: Claim


async def claim_subscription_check(
    session: AsyncSession, checked_before: datetime, now: datetime, lease_until: datetime
) -> ClaimedCheck | None:
    """Internal: one advertiser of a connected ads account whose subscription was not
    checked since `checked_before`, leased to the caller until `lease_until`."""
    checked_at = TikTokAdvertiser.checked_at
    claimed = await CHECKS.claim(
        session,
        limit=1,
        now=now,
        lease_until=lease_until,
        where=or_(checked_at.is_(None), checked_at < checked_before),
        columns=("advertiser_id", "account_id", "company_id", "subscription_id"),
    )
    if not claimed:
        return None
    (claim,) = claimed
    row = claim.row
    return ClaimedCheck(
        advertiser_id=row["advertiser_id"],
        account_id=row["account_id"],
        company_id=row["company_id"],
        subscription_id=row["subscription_id"],
        claim=claim,
    )


async def check_passed(session: AsyncSession, check: ClaimedCheck, now: datetime) -> bool:
    """The subscription was seen alive at `now`; False when the lease was no longer ours."""
    settled = await CHECKS.done(
        session, [check.claim], values={"checked_at": now, "last_error": None}
    )
    return bool(settled)


async def check_failed(
    session: AsyncSession, check: ClaimedCheck, *, error: str, retry_at: datetime | None
) -> bool:
    """The check failed (`error`): due again at `retry_at` (None: at once, which for an
    account that is no longer connected means once it is); False when the lease was no
    longer ours."""
    fate = await CHECKS.retry(session, check.claim, at=retry_at, values={"last_error": error})
    return fate is not Fate.lost
