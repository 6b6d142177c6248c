"""Background token refresh: renew access tokens before they expire and refresh tokens
before they lapse, in small batches, skipping rows another replica is already refreshing.
Login Kit and TikTok for Business accounts alike (each through its platform's grant); a
long-term TikTok for Business token has no refresh token and is never picked. Also forgets
consumed OAuth states once they can no longer be replayed."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import repository
from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.core.errors import AppError
from app.core.jobs import PeriodicJob
from app.oauth.models import ConsumedOAuthState
from app.tokens.manager import TokenManager

logger = logging.getLogger("app.jobs.token_refresh")
BATCH_SIZE = 50


async def refresh_due_tokens(
    sessionmaker: async_sessionmaker[AsyncSession],
    tokens: TokenManager,
    *,
    refresh_ahead: timedelta,
    renew_refresh_before: timedelta,
) -> int:
    """One pass; returns how many accounts were refreshed."""
    now = utcnow()
    refresh_before = now + renew_refresh_before
    async with sessionmaker() as session:
        due = await repository.due_for_refresh(
            session, now + refresh_ahead, refresh_before, BATCH_SIZE
        )
    refreshed = 0
    for account_id in due:
        try:
            if await tokens.refresh_if_due(account_id, refresh_before):
                refreshed += 1
        except AppError as exc:
            logger.warning(
                "background refresh failed",
                extra={"account_id": str(account_id), "error": exc.code},
            )
    async with session_scope(sessionmaker) as session:
        await session.execute(delete(ConsumedOAuthState).where(ConsumedOAuthState.expires_at < now))
    return refreshed


def job(
    sessionmaker: async_sessionmaker[AsyncSession], tokens: TokenManager, settings: Settings
) -> PeriodicJob:
    async def run_once() -> int:
        return await refresh_due_tokens(
            sessionmaker,
            tokens,
            refresh_ahead=timedelta(seconds=settings.token_refresh_ahead_seconds),
            renew_refresh_before=timedelta(days=settings.refresh_token_renew_before_days),
        )

    return PeriodicJob("token_refresh", settings.token_refresh_interval_seconds, run_once)
