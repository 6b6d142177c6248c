"""How each platform renews a token: the per-platform part of the one token machinery.

The token manager (`app.tokens.manager`) owns when and how safely a token is refreshed — once,
under the account's locks, stored before the lock is released — for every platform. A grant
says only what differs between them: which client refreshes, whether a token may come
without an expiry, and what an account of another platform is told. Both clients already
turn "TikTok refused this token" into `TikTokReauthRequired` (Login Kit: HTTP 401 or
`invalid_grant`; the Marketing API: code 40102 expired or 40105 invalid), so the manager's
refresh-and-retry needs no per-platform error knowledge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from app.accounts.errors import NotALoginKitAccount, NotAnAdsAccount
from app.accounts.models import Platform
from app.core.errors import Conflict
from app.tiktok.business import TikTokBusinessClient
from app.tiktok.client import TikTokClient
from app.tiktok.errors import TikTokNotConfigured
from app.tokens.store import IssuedTokens

BUSINESS_NOT_CONFIGURED = (
    "TikTok for Business is not configured: set TIKTOK_BUSINESS_APP_ID and TIKTOK_BUSINESS_SECRET."
)


class Grant(Protocol):
    platform: ClassVar[Platform]
    # Raised when the account asked for is of another platform.
    wrong_platform: ClassVar[type[Conflict]]
    # Whether an access token may come without an expiry (and then is used as it is).
    may_not_expire: ClassVar[bool]
    # The account log's words when TikTok refuses a token that cannot be refreshed.
    refused_message: ClassVar[str]

    def not_configured(self) -> TikTokNotConfigured | None:
        """Why no refresh can be sent (the client is not configured), else None."""

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        """Redeem the refresh token; `TikTokReauthRequired` when TikTok says it is dead."""


@dataclass(frozen=True, slots=True)
class LoginKitGrant:
    """Login Kit: every access token expires and comes with a (rotating) refresh token."""

    client: TikTokClient | None
    platform: ClassVar[Platform] = Platform.tiktok
    wrong_platform: ClassVar[type[Conflict]] = NotALoginKitAccount
    may_not_expire: ClassVar[bool] = False
    refused_message: ClassVar[str] = "TikTok no longer accepts the token; reconnect the account."

    def not_configured(self) -> TikTokNotConfigured | None:
        return TikTokNotConfigured() if self.client is None else None

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        assert self.client is not None  # checked by `not_configured` first
        return await self.client.refresh(refresh_token)


@dataclass(frozen=True, slots=True)
class BusinessGrant:
    """TikTok for Business: a token without `expires_in` is long-term (never refreshed, valid
    until revoked); one with it is refreshed like Login Kit's (TIKTOK_API.md §5)."""

    client: TikTokBusinessClient | None
    platform: ClassVar[Platform] = Platform.tiktok_ads
    wrong_platform: ClassVar[type[Conflict]] = NotAnAdsAccount
    may_not_expire: ClassVar[bool] = True
    refused_message: ClassVar[str] = (
        "TikTok for Business no longer accepts the token (the advertiser may have removed the "
        "app); reconnect the account."
    )

    def not_configured(self) -> TikTokNotConfigured | None:
        return TikTokNotConfigured(BUSINESS_NOT_CONFIGURED) if self.client is None else None

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        assert self.client is not None  # checked by `not_configured` first
        return await self.client.refresh_token(refresh_token)
