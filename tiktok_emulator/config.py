"""The emulator's configuration and TikTok's scope and field catalogue (TIKTOK_API.md §1-2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# How long an authorization code stays exchangeable (TikTok does not document it; RFC 6749
# recommends at most 10 minutes).
CODE_TTL_SECONDS = 600

REQUIRED_SCOPE = "user.info.basic"
VIDEO_SCOPE = "video.list"
# Canonical order: granted scopes are always reported in this order.
SCOPES: tuple[str, ...] = ("user.info.basic", "user.info.profile", "user.info.stats", VIDEO_SCOPE)

# Display API user fields and the scope each one needs.
USER_FIELDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "open_id",
            "union_id",
            "avatar_url",
            "avatar_url_100",
            "avatar_large_url",
            "display_name",
        ),
        "user.info.basic",
    ),
    **dict.fromkeys(
        ("bio_description", "profile_deep_link", "is_verified", "username"), "user.info.profile"
    ),
    **dict.fromkeys(
        ("follower_count", "following_count", "likes_count", "video_count"), "user.info.stats"
    ),
}

# Every video field needs the video.list scope.
VIDEO_FIELDS: tuple[str, ...] = (
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_html",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
    "is_aigc",
)

MAX_VIDEO_COUNT = 20
DEFAULT_VIDEO_COUNT = 10
MAX_QUERY_IDS = 20

# Cover URLs carry an expiry like TikTok's CDN links (valid about 6 hours).
COVER_URL_TTL_SECONDS = 6 * 3600

# TikTok for Business: advertiser auth codes are single use and valid 1 hour; an export
# file can be downloaded for about 10 minutes after its task succeeded.
BUSINESS_CODE_TTL_SECONDS = 3600
EXPORT_DOWNLOAD_TTL_SECONDS = 600


@dataclass
class EmulatorConfig:
    client_key: str = "sandbox-client-key"
    client_secret: str = "sandbox-client-secret"  # noqa: S105 - a public sandbox value
    # Exact-match allow list; empty accepts any http(s) URI without query or fragment.
    redirect_uris: list[str] = field(default_factory=list)
    access_token_ttl: int = 86400
    refresh_token_ttl: int = 31536000
    # Per endpoint (user/info, video/list, video/query), sliding 60 s window.
    rate_limit_per_minute: int = 600
    # Where signed Login Kit webhooks (authorization.removed) are POSTed.
    webhook_url: str | None = None
    # "hex": only TikTok's lowercase-hex SHA-256 challenge verifies; "any": RFC 7636 too.
    pkce_encoding: Literal["hex", "any"] = "any"
    videos_per_user: int = 45
    # TikTok for Business (Marketing API, TIKTOK_API.md §4).
    business_app_id: str = "sandbox-business-app"
    business_secret: str = "sandbox-business-secret"  # noqa: S105 - a public sandbox value
    # Exact-match allow list for the advertiser consent page; empty accepts any https URI
    # (or http on localhost) without query or fragment, like `redirect_uris`.
    business_redirect_uris: list[str] = field(default_factory=list)
    # How lead webhooks are signed: "open" X-Open-Signature (hex HMAC-SHA256 of the body),
    # "tiktok" TikTok-Signature t=,s= (Login Kit's scheme), "none" (the callback URL's own
    # ?token= authenticates).
    lead_signature: Literal["open", "tiktok", "none"] = "open"
    # What the lead webhook signature covers: "raw" the body as sent, "unicode_escaped" the
    # body with non-ASCII characters as \uXXXX (TIKTOK_API.md §5); the body is sent as raw
    # UTF-8 either way. Both can be changed at run time (PATCH /_control/business/signing).
    lead_signature_form: Literal["raw", "unicode_escaped"] = "raw"
    # A lead export larger than this is served as a zip holding the CSV (TikTok: 10 MB).
    export_zip_threshold_bytes: int = 10 * 1024 * 1024
    # The advertiser token model, on which public sources disagree (TIKTOK_API.md §5):
    # "long_lived" tokens never expire and come without a refresh token; "expiring" ones
    # carry `expires_in` and a refresh token that oauth2/refresh_token/ rotates, and answer
    # 40102 once expired. Changeable at run time (PATCH /_control/business/tokens).
    business_token_model: Literal["long_lived", "expiring"] = "long_lived"  # noqa: S105
    business_access_token_ttl: int = 86400
    business_refresh_token_ttl: int = 31536000
    # The most forms one page/get answer holds whatever page_size asks (at most 100, the
    # largest page_size accepted): TikTok may page smaller than asked. Changeable at run
    # time (PATCH /_control/business/paging).
    business_forms_page_size: int = 100
