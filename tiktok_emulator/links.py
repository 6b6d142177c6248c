"""Absolute URLs of the emulator's own pages and images, correct when mounted under a prefix."""

from __future__ import annotations

from fastapi import Request

from tiktok_emulator.config import COVER_URL_TTL_SECONDS
from tiktok_emulator.seed import FakeUser, FakeVideo


class Links:
    def __init__(self, request: Request, now: float) -> None:
        self._request = request
        self._now = now

    def avatar(self, user: FakeUser, size: int | None = None) -> str:
        url = self._request.url_for("avatar", open_id=user.open_id)
        return str(url if size is None else url.include_query_params(size=size))

    def cover(self, video: FakeVideo) -> str:
        expires = int(self._now) + COVER_URL_TTL_SECONDS
        url = self._request.url_for("cover", video_id=video.id)
        return str(url.include_query_params(**{"x-expires": expires}))

    def profile(self, user: FakeUser) -> str:
        return str(self._request.url_for("profile", username=user.username))

    def share(self, video: FakeVideo, user: FakeUser) -> str:
        return str(self._request.url_for("video", username=user.username, video_id=video.id))

    def embed(self, video: FakeVideo) -> str:
        return str(self._request.url_for("embed", video_id=video.id))
