"""The TikTok upstream: client, PKCE, scopes, payload schemas and domain errors."""

from app.tiktok.client import TikTokClient
from app.tiktok.errors import (
    TikTokBadRequest,
    TikTokCodeRejected,
    TikTokError,
    TikTokInvalidResponse,
    TikTokNotConfigured,
    TikTokRateLimited,
    TikTokReauthRequired,
    TikTokScopeNotGranted,
    TikTokUnavailable,
)
from app.tiktok.schemas import TikTokUser, TokenSet, Video, VideoPage

__all__ = [
    "TikTokBadRequest",
    "TikTokClient",
    "TikTokCodeRejected",
    "TikTokError",
    "TikTokInvalidResponse",
    "TikTokNotConfigured",
    "TikTokRateLimited",
    "TikTokReauthRequired",
    "TikTokScopeNotGranted",
    "TikTokUnavailable",
    "TikTokUser",
    "TokenSet",
    "Video",
    "VideoPage",
]
