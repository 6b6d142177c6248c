"""Profile, stats and videos of a connected account: read from TikTok, stored, served.

TikTok is called through the token manager (it refreshes, and retries once on a 401). What
TikTok answers is stored by `ProfileService.sync` in a short write transaction of its own,
opened once TikTok has answered; a read of the stored profile takes the request's read
session, so the common case (a fresh profile) writes nothing and locks nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts import repository as accounts_repository
from app.accounts import service as accounts
from app.accounts.errors import AccountNotConnected, NotALoginKitAccount
from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.core.db import AsyncReadSession, session_scope, utcnow
from app.core.queue import Claim
from app.core.security import Principal
from app.profile import repository
from app.profile.models import StatsSnapshot
from app.profile.schemas import (
    ProfileOut,
    StatsHistoryOut,
    StatsOut,
    VideoOut,
    VideoPageOut,
)
from app.tiktok.client import TikTokClient
from app.tiktok.errors import TikTokRateLimited, TikTokScopeNotGranted, TikTokUnavailable
from app.tiktok.schemas import TikTokUser, Video
from app.tokens.manager import AccessToken, TokenManager

STATS_SCOPE = "user.info.stats"
VIDEO_SCOPE = "video.list"


async def login_kit_account(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID
) -> IntegrationAccount:
    """The company's account, if it is a Login Kit one: a TikTok for Business account has no
    profile, stats or videos, whatever its status (checked before whether it is connected)."""
    account = await accounts.get(session, principal, account_id)
    if account.platform != Platform.tiktok:
        raise NotALoginKitAccount
    return account


class ProfileService:
    def __init__(
        self,
        tiktok: TikTokClient,
        tokens: TokenManager,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        self.tiktok = tiktok
        self.tokens = tokens
        # Its own short write transactions: storing a sync, claiming due accounts.
        self.sessionmaker = sessionmaker

    async def fetch_user(self, account_id: uuid.UUID, company_id: str) -> TikTokUser:
        async def request(token: AccessToken) -> TikTokUser:
            return await self.tiktok.user_info(token.value, token.scopes)

        return await self.tokens.call(account_id, company_id, request)

    async def sync(self, principal: Principal, account_id: uuid.UUID) -> ProfileOut:
        """The profile read from TikTok now, stored (committed) before it is returned."""
        user = await self.fetch_user(account_id, principal.company_id)
        async with session_scope(self.sessionmaker) as session:
            account = await accounts.get(session, principal, account_id)
            snapshot = store_profile(session, account, user)
            await session.flush()
            stats = snapshot or await repository.latest_stats(session, account.id)
            return profile_of(account, stats)

    async def sync_claimed(self, claim: Claim) -> bool:
        """Background sync of one leased account (a claim of `repository.SYNC`): TikTok
        first, then, in one short transaction, the lease released and the profile stored.
        False when the lease was lost meanwhile (nothing stored); TikTok errors are the
        caller's to log."""
        company_id: str = claim.row["company_id"]
        user = await self.fetch_user(claim.id, company_id)
        async with session_scope(self.sessionmaker) as session:
            if not await repository.release_synced(session, claim):
                return False
            account = await accounts_repository.get(session, company_id, claim.id)
            if account is not None:
                store_profile(session, account, user)
        return True

    async def profile(
        self,
        session: AsyncReadSession,
        principal: Principal,
        account_id: uuid.UUID,
        *,
        refresh: bool,
        max_age: timedelta,
    ) -> ProfileOut:
        """The stored profile (read through `session`, which may be a read session), or,
        when it is older than `max_age` or `refresh` asks for it, TikTok's (see `sync`)."""
        account = await login_kit_account(session, principal, account_id)
        synced_at = account.profile_synced_at
        connected = account.status == AccountStatus.connected
        stale = synced_at is None or utcnow() - synced_at > max_age
        if refresh and not connected:
            raise AccountNotConnected
        if not (connected and (refresh or stale)):
            if synced_at is None:
                raise AccountNotConnected("The account has never been synced from TikTok.")
            return profile_of(account, await repository.latest_stats(session, account.id))
        # The session's connection goes back to the pool while TikTok is called.
        await session.rollback()
        try:
            return await self.sync(principal, account_id)
        except (TikTokUnavailable, TikTokRateLimited):
            # An automatic refresh that fails falls back to what is stored; an explicit
            # `refresh=true` reports the failure.
            if refresh or synced_at is None:
                raise
        account = await accounts.get(session, principal, account_id)
        return profile_of(account, await repository.latest_stats(session, account.id))

    async def videos(
        self,
        principal: Principal,
        account_id: uuid.UUID,
        *,
        cursor: int | None,
        max_count: int,
    ) -> VideoPageOut:
        async def request(token: AccessToken) -> VideoPageOut:
            if VIDEO_SCOPE not in token.scopes:
                raise TikTokScopeNotGranted(
                    f"The TikTok user did not grant `{VIDEO_SCOPE}`; reconnect and allow it."
                )
            page = await self.tiktok.video_list(token.value, cursor=cursor, max_count=max_count)
            return VideoPageOut(
                items=[video_of(video) for video in page.videos],
                cursor=page.cursor,
                has_more=page.has_more,
            )

        return await self.tokens.call(account_id, principal.company_id, request)


async def stats_history(
    session: AsyncSession,
    principal: Principal,
    account_id: uuid.UUID,
    since: datetime | None,
    limit: int,
) -> StatsHistoryOut:
    await login_kit_account(session, principal, account_id)
    rows = await repository.stats_since(session, principal.company_id, account_id, since, limit)
    return StatsHistoryOut(account_id=account_id, items=[StatsOut.model_validate(r) for r in rows])


def store_profile(
    session: AsyncSession, account: IntegrationAccount, user: TikTokUser
) -> StatsSnapshot | None:
    """Copy TikTok's answer onto the account; record stats when the scope gives them."""
    now = utcnow()
    fields = user.model_dump(exclude_unset=True)
    for name in (
        "union_id",
        "username",
        "display_name",
        "avatar_url",
        "avatar_large_url",
        "bio_description",
        "profile_deep_link",
        "is_verified",
    ):
        if name in fields:
            setattr(account, name, fields[name])
    account.profile_synced_at = now
    if STATS_SCOPE not in account.scopes:
        return None
    snapshot = StatsSnapshot(
        company_id=account.company_id,
        account_id=account.id,
        follower_count=user.follower_count,
        following_count=user.following_count,
        likes_count=user.likes_count,
        video_count=user.video_count,
        captured_at=now,
    )
    session.add(snapshot)
    return snapshot


def profile_of(account: IntegrationAccount, stats: StatsSnapshot | None) -> ProfileOut:
    return ProfileOut(
        account_id=account.id,
        open_id=account.external_id,
        username=account.username,
        display_name=account.display_name,
        avatar_url=account.avatar_url,
        avatar_large_url=account.avatar_large_url,
        bio_description=account.bio_description,
        profile_deep_link=account.profile_deep_link,
        is_verified=account.is_verified,
        granted_scopes=account.scopes,
        stats=StatsOut.model_validate(stats) if stats is not None else None,
        synced_at=account.profile_synced_at,
    )


def video_of(video: Video) -> VideoOut:
    created = datetime.fromtimestamp(video.create_time, UTC) if video.create_time else None
    return VideoOut(
        id=video.id,
        title=video.title,
        description=video.video_description,
        cover_image_url=video.cover_image_url,
        share_url=video.share_url,
        embed_link=video.embed_link,
        embed_html=video.embed_html,
        duration=video.duration,
        width=video.width,
        height=video.height,
        view_count=video.view_count,
        like_count=video.like_count,
        comment_count=video.comment_count,
        share_count=video.share_count,
        created_at=created,
    )
