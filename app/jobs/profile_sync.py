"""Background profile and stats sync of connected accounts.

The accounts due a sync are a durable queue (`app.profile.repository.SYNC`): replicas lease
disjoint batches (`SKIP LOCKED` plus the `sync_lease_until` lease), and calls are spaced
with jitter to stay well inside TikTok's 600 requests/minute budget for user/info.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.core.errors import AppError
from app.core.jobs import PeriodicJob
from app.profile import repository
from app.profile.service import ProfileService
from app.tiktok.client import TikTokClient
from app.tokens.manager import TokenManager

logger = logging.getLogger("app.jobs.profile_sync")
BATCH_SIZE = 20
LEASE = timedelta(minutes=10)


async def sync_due_profiles(
    profiles: ProfileService,
    *,
    max_age: timedelta,
    requests_per_minute: int,
) -> int:
    """One pass: sync up to a batch of accounts; returns how many were synced."""
    now = utcnow()
    async with session_scope(profiles.sessionmaker) as session:
        claimed = await repository.claim_due_for_sync(
            session, now - max_age, now, now + LEASE, BATCH_SIZE
        )
    spacing = 60.0 / max(requests_per_minute, 1)
    synced = 0
    for index, claim in enumerate(claimed):
        if index:
            await asyncio.sleep(spacing * random.uniform(0.5, 1.5))  # noqa: S311 - jitter
        try:
            if await profiles.sync_claimed(claim):
                synced += 1
            else:
                logger.info(
                    "background profile sync dropped: the lease was lost",
                    extra={"account_id": str(claim.id)},
                )
        except AppError as exc:
            # The lease stays until it expires, so a failing account is not retried at once.
            logger.warning(
                "background profile sync failed",
                extra={"account_id": str(claim.id), "error": exc.code},
            )
    return synced


# How often the background sync looks for accounts whose profile is older than the period.
CHECK_SECONDS = 60.0


def job(
    sessionmaker: async_sessionmaker[AsyncSession],
    tiktok: TikTokClient,
    tokens: TokenManager,
    settings: Settings,
) -> PeriodicJob:
    profiles = ProfileService(tiktok, tokens, sessionmaker)

    async def run_once() -> int:
        return await sync_due_profiles(
            profiles,
            max_age=timedelta(seconds=settings.profile_sync_interval_seconds),
            requests_per_minute=settings.profile_sync_requests_per_minute,
        )

    return PeriodicJob("profile_sync", CHECK_SECONDS, run_once)
