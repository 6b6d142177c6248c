"""Which user-info fields each granted TikTok scope unlocks.

TikTok fails the whole `user/info` call if it asks for a field whose scope was not granted,
so the request is built from the granted scopes only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

USER_FIELDS_BY_SCOPE: Mapping[str, tuple[str, ...]] = {
    "user.info.basic": (
        "open_id",
        "union_id",
        "avatar_url",
        "avatar_url_100",
        "avatar_large_url",
        "display_name",
    ),
    "user.info.profile": ("bio_description", "profile_deep_link", "is_verified", "username"),
    "user.info.stats": ("follower_count", "following_count", "likes_count", "video_count"),
}


def scope_fields(scopes: Iterable[str]) -> list[str]:
    """The user-info fields the granted scopes allow; `open_id` always (it identifies the user)."""
    granted = {scope.strip() for scope in scopes}
    fields = ["open_id"]
    for scope, names in USER_FIELDS_BY_SCOPE.items():
        if scope in granted:
            fields.extend(name for name in names if name not in fields)
    return fields
