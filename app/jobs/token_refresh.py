"""Background token refresh: renew access tokens before they expire and refresh tokens
before they lapse, for Login Kit and TikTok for Business accounts alike (each through its
platform's grant); a long-term TikTok for Business token has no refresh token and is never
picked. Also forgets consumed OAuth states once they can no longer be replayed.

A pass works until nothing is due, with at most `TOKEN_REFRESH_CONCURRENCY` refreshes in
flight, as a pipeline: claims take that many due accounts at a time and run beside the
refreshes (the next starts once half the previous batch has started), and each slot a
refresh frees starts the next claimed account at once, without waiting for a claim's round
trip. A storm of due accounts is drained in one pass, not 50 a minute.

Exactly one refresh per account rests on the token manager, which refreshes under the
account's row lock (PostgreSQL `FOR UPDATE`, SQLite's write lock) and re-checks that the
account is still due once it holds it; it never relies on the claim. The claim (a leased
queue of `app.core.queue`: `accounts.repository.REFRESH`) spreads the work:
- it leases the accounts it takes (`refresh_lease_until`, CLAIM_LEASE) in a short
  transaction of its own that commits before the refreshes start (a refresh takes its own
  row lock while TikTok answers), so passes on other replicas pass over them and two passes
  take disjoint accounts;
- a refresh moves the account out of "due"; one that failed keeps its lease and is due
  again once the lease lapses (a backoff); one the manager skipped (another replica's
  refresh holds its row lock, or it is no longer due) is given back at once, so the next
  pass takes it instead of waiting out the lease;
- it walks the due accounts in id order from a cursor, so a pass visits each account at
  most once and ends when a claim comes back short.
On SQLite (one process, one writer) a refresh holds the database's write lock while TikTok
answers, so refreshes meet TikTok one at a time.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from datetime import datetime, timedelta
from typing import Literal

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
DEFAULT_CONCURRENCY = 10
# How long a claimed account is kept from other passes: well past one refresh (TikTok's
# answer, its retries), short enough that a failed refresh is tried again within minutes.
CLAIM_LEASE = timedelta(minutes=2)


async def refresh_due_tokens(
    sessionmaker: async_sessionmaker[AsyncSession],
    tokens: TokenManager,
    *,
    refresh_ahead: timedelta,
    renew_refresh_before: timedelta,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> int:
    """One pass, until nothing is due; returns how many accounts were refreshed.

    A pipeline: at most `concurrency` refreshes in flight, each freed slot starting the
    next claimed account at once. Claims take `concurrency` accounts at a time and run
    beside the refreshes, the next one as soon as half the previous batch has started: a
    freed slot does not wait for a claim's round trip, and no account waits leased for
    more than about `concurrency` refreshes before its own starts.
    """
    now = utcnow()
    access_before, refresh_before = now + refresh_ahead, now + renew_refresh_before
    slots = asyncio.Semaphore(concurrency)
    refreshed = 0
    after: uuid.UUID | None = None

    async def refresh(account_id: uuid.UUID, lease_until: datetime) -> None:
        nonlocal refreshed
        try:
            outcome = await _refresh_one(tokens, account_id, refresh_before)
            if outcome == "refreshed":
                refreshed += 1
            elif outcome == "skipped":
                # Busy under another lock or no longer due: the next pass may take it now,
                # not once the lease lapses (a failed refresh keeps its lease: a backoff).
                async with session_scope(sessionmaker) as session:
                    await repository.release_refresh_claim(session, account_id, lease_until)
        finally:
            slots.release()

    async def claim() -> list[tuple[uuid.UUID, datetime]]:
        """The next `concurrency` due accounts after the cursor (one claim at a time)."""
        nonlocal after
        claimed_at = utcnow()
        lease_until = claimed_at + CLAIM_LEASE
        async with session_scope(sessionmaker) as session:
            claimed = await repository.claim_due_for_refresh(
                session,
                access_before,
                refresh_before,
                after=after,
                limit=concurrency,
                now=claimed_at,
                lease_until=lease_until,
            )
        if claimed:
            after = claimed[-1]
        return [(account_id, lease_until) for account_id in claimed]

    low_water = concurrency // 2
    async with asyncio.TaskGroup() as group:
        ready = deque(await claim())
        more = len(ready) == concurrency  # a short claim: nothing more is due
        claiming: asyncio.Task[list[tuple[uuid.UUID, datetime]]] | None = None
        while ready or claiming is not None:
            if more and claiming is None and len(ready) <= low_water:
                claiming = group.create_task(claim(), name="refresh-claim")
            if ready:
                await slots.acquire()
                account_id, lease_until = ready.popleft()
                group.create_task(
                    refresh(account_id, lease_until), name=f"refresh-due-{account_id}"
                )
            if claiming is not None and (claiming.done() or not ready):
                batch = await claiming
                claiming = None
                ready.extend(batch)
                more = len(batch) == concurrency
    async with session_scope(sessionmaker) as session:
        await session.execute(delete(ConsumedOAuthState).where(ConsumedOAuthState.expires_at < now))
    return refreshed


async def _refresh_one(
    tokens: TokenManager, account_id: uuid.UUID, refresh_before: datetime
) -> Literal["refreshed", "skipped", "failed"]:
    """One account's refresh; its failure is logged and never ends the pass."""
    try:
        refreshed = await tokens.refresh_if_due(account_id, refresh_before)
    except AppError as exc:
        logger.warning(
            "background refresh failed", extra={"account_id": str(account_id), "error": exc.code}
        )
    except Exception:
        logger.exception("background refresh failed", extra={"account_id": str(account_id)})
    else:
        return "refreshed" if refreshed else "skipped"
    return "failed"


def job(
    sessionmaker: async_sessionmaker[AsyncSession], tokens: TokenManager, settings: Settings
) -> PeriodicJob:
    async def run_once() -> int:
        return await refresh_due_tokens(
            sessionmaker,
            tokens,
            refresh_ahead=timedelta(seconds=settings.token_refresh_ahead_seconds),
            renew_refresh_before=timedelta(days=settings.refresh_token_renew_before_days),
            concurrency=settings.token_refresh_concurrency,
        )

    return PeriodicJob("token_refresh", settings.token_refresh_interval_seconds, run_once)
