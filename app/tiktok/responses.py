"""Reads TikTok's answers: the one place that turns a status and a body into data or an error.

Two wire formats. The OAuth endpoints (token, revoke) answer flat JSON where an `error` key
means failure whatever the status: TikTok sends errors with HTTP 200. The Display API answers
`{"data": ..., "error": {"code", "message", "log_id"}}` and succeeds only with a 2xx status
*and* `error.code == "ok"`: some clients see its errors with HTTP 200 too. What these share
with the Marketing API's reader (status fallback, error building, Retry-After) is in
`app.tiktok.wire`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.tiktok.errors import (
    TikTokBadRequest,
    TikTokCodeRejected,
    TikTokError,
    TikTokInvalidResponse,
    TikTokRateLimited,
    TikTokReauthRequired,
    TikTokScopeNotGranted,
    TikTokUnavailable,
)
from app.tiktok.wire import (
    class_for_status,
    failure,
    is_success,
    json_object,
    parse_retry_after,
    text,
)

__all__ = ["Answer", "Call", "classify", "parse_retry_after"]


class Call(StrEnum):
    """Each upstream endpoint; the value is the name used in logs."""

    CODE_EXCHANGE = "token_exchange"
    REFRESH = "token_refresh"
    REVOKE = "revoke"
    USER_INFO = "user_info"
    VIDEO_LIST = "video_list"

    @property
    def is_oauth(self) -> bool:
        return self in {Call.CODE_EXCHANGE, Call.REFRESH, Call.REVOKE}


@dataclass(frozen=True, slots=True)
class Answer:
    """A successful answer: the flat OAuth document, or the Display API's `data`."""

    data: dict[str, Any]
    log_id: str | None


# TikTok's error codes (OAuth and Display API) that mean the same whatever the call.
_ERRORS_BY_CODE: dict[str, type[TikTokError]] = {
    "access_token_invalid": TikTokReauthRequired,
    "scope_not_authorized": TikTokScopeNotGranted,
    "scope_permission_missed": TikTokScopeNotGranted,
    "rate_limit_exceeded": TikTokRateLimited,
    "internal_error": TikTokUnavailable,
    "server_error": TikTokUnavailable,
    "temporarily_unavailable": TikTokUnavailable,
    "invalid_params": TikTokBadRequest,
    "invalid_request": TikTokBadRequest,
    "invalid_client": TikTokBadRequest,
    "invalid_scope": TikTokBadRequest,
    "unauthorized_client": TikTokBadRequest,
    "unsupported_grant_type": TikTokBadRequest,
    "unsupported_response_type": TikTokBadRequest,
}
# The grant itself was refused: a dead refresh token needs the user back, a bad code a restart.
INVALID_GRANT = "invalid_grant"
_GRANT_REFUSED = {INVALID_GRANT, "access_denied"}


def classify(call: Call, status: int, body: bytes, *, retry_after: str | None = None) -> Answer:
    """The answer's payload, or the `TikTokError` it means (raised).

    `retry_after` is the response's Retry-After header, used when TikTok rate-limits.
    """
    document = json_object(body)
    if call.is_oauth:
        return _classify_oauth(call, status, document, retry_after)
    return _classify_display(call, status, document, retry_after)


def _classify_oauth(
    call: Call, status: int, document: dict[str, Any] | None, retry_after: str | None
) -> Answer:
    if document is None:
        raise _failure(call, status, retry_after=retry_after, why="is not a JSON object")
    log_id = text(document.get("log_id"))
    error = document.get("error")
    if error or not is_success(status):
        raise _failure(
            call,
            status,
            code=error if isinstance(error, str) else None,
            log_id=log_id,
            tiktok_message=text(document.get("error_description")),
            retry_after=retry_after,
            why="carries no known error",
        )
    return Answer(document, log_id)


def _classify_display(
    call: Call, status: int, document: dict[str, Any] | None, retry_after: str | None
) -> Answer:
    if document is None:
        raise _failure(call, status, retry_after=retry_after, why="is not a JSON object")
    error = document.get("error")
    error = error if isinstance(error, dict) else {}
    code = text(error.get("code"))
    log_id = text(error.get("log_id"))
    if code != "ok" or not is_success(status):
        raise _failure(
            call,
            status,
            code=code,
            log_id=log_id,
            tiktok_message=text(error.get("message")),
            retry_after=retry_after,
            why="has neither data nor a known error",
        )
    data = document.get("data")
    if not isinstance(data, dict):
        raise TikTokInvalidResponse(
            "TikTok's answer has no data object.",
            tiktok_code=code,
            log_id=log_id,
            http_status=status,
        )
    return Answer(data, log_id)


def _failure(
    call: Call,
    status: int,
    *,
    code: str | None = None,
    log_id: str | None = None,
    tiktok_message: str | None = None,
    retry_after: str | None,
    why: str,
) -> TikTokError:
    """The error for a failed answer: TikTok's code decides when known, else the status."""
    return failure(
        _class_for_code(call, code) or class_for_status(status),
        why,
        status=status,
        tiktok_code=code,
        log_id=log_id,
        tiktok_message=tiktok_message,
        retry_after=retry_after,
    )


def _class_for_code(call: Call, code: str | None) -> type[TikTokError] | None:
    if code in _GRANT_REFUSED:
        return TikTokCodeRejected if call is Call.CODE_EXCHANGE else TikTokReauthRequired
    return _ERRORS_BY_CODE.get(code) if code else None
