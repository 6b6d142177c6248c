"""What every reader of TikTok's answers shares, whatever the API's wire format.

Owns the JSON and text field readers, the HTTP status fallback when TikTok's own code says
nothing (429 rate limited, 5xx unavailable, 4xx bad request, else an invalid answer), the
building of the `TikTokError` for a failed answer, and the Retry-After header. The wire
formats themselves are read by `app.tiktok.responses` (Login Kit, Display API) and
`app.tiktok.business` (Marketing API).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from app.core.retry import retry_after_seconds
from app.tiktok.errors import (
    DEFAULT_RETRY_AFTER_SECONDS,
    TikTokBadRequest,
    TikTokError,
    TikTokInvalidResponse,
    TikTokRateLimited,
    TikTokUnavailable,
)


def failure(
    error_class: type[TikTokError],
    why: str,
    *,
    status: int,
    tiktok_code: str | None = None,
    log_id: str | None = None,
    tiktok_message: str | None = None,
    retry_after: str | None,
) -> TikTokError:
    """The `error_class` error for a failed answer; `why` explains an invalid one."""
    if error_class is TikTokRateLimited:
        return TikTokRateLimited(
            retry_after=parse_retry_after(retry_after),
            tiktok_code=tiktok_code,
            log_id=log_id,
            http_status=status,
            tiktok_message=tiktok_message,
        )
    message = f"TikTok's answer {why}." if error_class is TikTokInvalidResponse else None
    return error_class(
        message,
        tiktok_code=tiktok_code,
        log_id=log_id,
        http_status=status,
        tiktok_message=tiktok_message,
    )


def class_for_status(status: int) -> type[TikTokError]:
    if status == 429:
        return TikTokRateLimited
    if status >= 500:
        return TikTokUnavailable
    if 400 <= status < 500:
        return TikTokBadRequest
    # A 2xx (or an unexpected 1xx/3xx) that is neither data nor a known error.
    return TikTokInvalidResponse


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> int:
    """Whole seconds to wait from a Retry-After header (`app.core.retry` reads it), else 60."""
    seconds = retry_after_seconds(value, now)
    return DEFAULT_RETRY_AFTER_SECONDS if seconds is None else math.ceil(seconds)


def json_object(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return None
    return document if isinstance(document, dict) else None


def is_success(status: int) -> bool:
    return 200 <= status < 300


def text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
