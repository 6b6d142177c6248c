"""The domain errors of the TikTok upstream: what callers catch, and what the API renders.

Every failure talking to TikTok becomes one `TikTokError` subclass with a stable code and
status. Each carries TikTok's `log_id` (TikTok support asks for it) and error code, copied
into `details` so they reach the logs and the account log. Tokens, codes and secrets never
go into a message or `details`.
"""

from __future__ import annotations

from typing import Any

from app.core.errors import AppError

DEFAULT_RETRY_AFTER_SECONDS = 60
# TikTok's free-text descriptions are for humans; keep them short in logs and responses.
MAX_TIKTOK_MESSAGE_LENGTH = 300


class TikTokError(AppError):
    status_code = 502
    code = "tiktok_error"
    message = "TikTok could not handle the request."

    def __init__(
        self,
        message: str | None = None,
        *,
        tiktok_code: str | None = None,
        log_id: str | None = None,
        http_status: int | None = None,
        tiktok_message: str | None = None,
        extra_details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.tiktok_code = tiktok_code
        self.log_id = log_id
        self.http_status = http_status
        details: dict[str, Any] = {
            "tiktok_code": tiktok_code,
            "log_id": log_id,
            "http_status": http_status,
            "tiktok_message": tiktok_message[:MAX_TIKTOK_MESSAGE_LENGTH]
            if tiktok_message
            else None,
            **(extra_details or {}),
        }
        details = {key: value for key, value in details.items() if value is not None}
        super().__init__(message, details=details or None, headers=headers)

    def log_data(self) -> dict[str, Any]:
        """What an account log entry keeps of this failure: our code, TikTok's code, log_id."""
        data: dict[str, Any] = {"error": self.code}
        if self.tiktok_code:
            data["tiktok_code"] = self.tiktok_code
        if self.log_id:
            data["log_id"] = self.log_id
        return data


class TikTokReauthRequired(TikTokError):
    status_code = 409
    code = "reauth_required"
    message = "TikTok no longer accepts this account's tokens; the account must be reconnected."


class TikTokScopeNotGranted(TikTokError):
    status_code = 403
    code = "scope_not_granted"
    message = "The TikTok user did not grant the permission this request needs."


class TikTokRateLimited(TikTokError):
    status_code = 429
    code = "tiktok_rate_limited"
    message = "TikTok's rate limit was reached; try again later."

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: int = DEFAULT_RETRY_AFTER_SECONDS,
        tiktok_code: str | None = None,
        log_id: str | None = None,
        http_status: int | None = None,
        tiktok_message: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            message,
            tiktok_code=tiktok_code,
            log_id=log_id,
            http_status=http_status,
            tiktok_message=tiktok_message,
            extra_details={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


class TikTokUnavailable(TikTokError):
    status_code = 502
    code = "tiktok_unavailable"
    message = "TikTok is unavailable; try again later."


class TikTokInvalidResponse(TikTokUnavailable):
    code = "tiktok_invalid_response"
    message = "TikTok answered with something that is not a valid response."


class TikTokBadRequest(TikTokError):
    status_code = 502
    code = "tiktok_bad_request"
    message = "TikTok rejected the request; the integration's request or configuration is wrong."


class TikTokCodeRejected(TikTokBadRequest):
    """The authorization code was refused (expired, already used, or not ours)."""

    status_code = 400
    code = "token_exchange_failed"
    message = "TikTok refused the authorization code; start the connection again."


class TikTokNotConfigured(TikTokError):
    status_code = 503
    code = "tiktok_not_configured"
    message = "TikTok is not configured: set TIKTOK_CLIENT_ID and TIKTOK_CLIENT_SECRET."
