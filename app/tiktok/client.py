"""The TikTok upstream client: the only code that speaks HTTP to Login Kit and the Display API.

One long-lived `httpx.AsyncClient` and one typed method per endpoint. Every answer goes
through `classify`, so TikTok's error shapes become the errors of `app.tiktok.errors` in one
place. Reads and revoke are retried on network errors and 5xx; token grants only when the
request provably never left, because TikTok may already have consumed the single-use code or
rotated the refresh token, and a retry with the old one would kill the new one.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterable, Sequence
from enum import Enum, auto
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from app.core.config import Settings
from app.tiktok.errors import (
    TikTokError,
    TikTokInvalidResponse,
    TikTokNotConfigured,
    TikTokUnavailable,
)
from app.tiktok.responses import Answer, Call, classify
from app.tiktok.schemas import VIDEO_FIELDS, TikTokUser, TokenSet, Video, VideoBatch, VideoPage
from app.tiktok.scopes import scope_fields

logger = logging.getLogger("app.tiktok")

USER_AGENT = "tiktok-integration/0.1 (+https://developers.tiktok.com)"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_VIDEO_IDS = 20
MAX_PAGE_SIZE = 20

AUTHORIZE_PATH = "/v2/auth/authorize/"
TOKEN_PATH = "/v2/oauth/token/"  # noqa: S105 - a URL path, not a secret
REVOKE_PATH = "/v2/oauth/revoke/"
USER_INFO_PATH = "/v2/user/info/"
VIDEO_LIST_PATH = "/v2/video/list/"
VIDEO_QUERY_PATH = "/v2/video/query/"

# Raised before any byte of the request reached TikTok, so even a token grant may be retried.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

ModelT = TypeVar("ModelT", bound=BaseModel)


class _Retry(Enum):
    IDEMPOTENT = auto()  # reads and revoke: network errors, timeouts and 5xx
    NEVER_SENT_ONLY = auto()  # token grants: only when the request never left


class TikTokClient:
    def __init__(
        self,
        *,
        client_key: str,
        client_secret: str,
        auth_base_url: str,
        api_base_url: str,
        http: httpx.AsyncClient | None = None,
        max_attempts: int = 3,
        backoff_seconds: float = 0.2,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client_key = client_key
        self._client_secret = SecretStr(client_secret)
        self._auth_base_url = auth_base_url.rstrip("/")
        self._api_base_url = api_base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=DEFAULT_TIMEOUT, headers={"User-Agent": USER_AGENT}
        )
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds

    @classmethod
    def from_settings(
        cls, settings: Settings, http: httpx.AsyncClient | None = None
    ) -> TikTokClient:
        secret = settings.tiktok_client_secret
        if not settings.tiktok_client_id or secret is None or not secret.get_secret_value():
            raise TikTokNotConfigured()
        return cls(
            client_key=settings.tiktok_client_id,
            client_secret=secret.get_secret_value(),
            auth_base_url=settings.tiktok_auth_base_url,
            api_base_url=settings.tiktok_api_base_url,
            http=http,
        )

    async def aclose(self) -> None:
        # A client passed in belongs to whoever created it (the lifespan, a test).
        if self._owns_http:
            await self._http.aclose()

    def authorize_url(
        self,
        *,
        state: str,
        scopes: Sequence[str],
        redirect_uri: str,
        code_challenge: str | None,
        disable_auto_auth: bool = False,
    ) -> str:
        params = {
            "client_key": self._client_key,
            "scope": ",".join(scopes),
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
        }
        if disable_auto_auth:
            params["disable_auto_auth"] = "1"
        if code_challenge is not None:
            params["code_challenge"] = code_challenge
            params["code_challenge_method"] = "S256"
        return f"{self._auth_base_url}{AUTHORIZE_PATH}?{urlencode(params, safe=',')}"

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenSet:
        form = self._credentials() | {
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
        }
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        answer = await self._call(
            Call.CODE_EXCHANGE, "POST", TOKEN_PATH, retry=_Retry.NEVER_SENT_ONLY, form=form
        )
        return _parse(TokenSet, answer.data, answer)

    async def refresh(self, refresh_token: str) -> TokenSet:
        form = self._credentials() | {"grant_type": "refresh_token", "refresh_token": refresh_token}
        answer = await self._call(
            Call.REFRESH, "POST", TOKEN_PATH, retry=_Retry.NEVER_SENT_ONLY, form=form
        )
        return _parse(TokenSet, answer.data, answer)

    async def revoke(self, access_token: str) -> None:
        form = self._credentials() | {"token": access_token}
        await self._call(Call.REVOKE, "POST", REVOKE_PATH, retry=_Retry.IDEMPOTENT, form=form)

    async def user_info(self, access_token: str, scopes: Iterable[str]) -> TikTokUser:
        answer = await self._call(
            Call.USER_INFO,
            "GET",
            USER_INFO_PATH,
            retry=_Retry.IDEMPOTENT,
            token=access_token,
            params={"fields": ",".join(scope_fields(scopes))},
        )
        return _parse(TikTokUser, answer.data.get("user"), answer)

    async def video_list(
        self, access_token: str, *, cursor: int | None = None, max_count: int = 20
    ) -> VideoPage:
        if not 1 <= max_count <= MAX_PAGE_SIZE:
            raise ValueError(f"max_count must be between 1 and {MAX_PAGE_SIZE}")
        body: dict[str, Any] = {"max_count": max_count}
        if cursor is not None:
            body["cursor"] = cursor
        answer = await self._call(
            Call.VIDEO_LIST,
            "POST",
            VIDEO_LIST_PATH,
            retry=_Retry.IDEMPOTENT,
            token=access_token,
            params={"fields": ",".join(VIDEO_FIELDS)},
            json_body=body,
        )
        return _parse(VideoPage, answer.data, answer)

    async def video_query(self, access_token: str, video_ids: Sequence[str]) -> list[Video]:
        # A str is a Sequence[str] too; sending its characters as ids would be a silent bug.
        if isinstance(video_ids, str):
            raise TypeError("video_ids must be a sequence of ids, not a string")
        if len(video_ids) > MAX_VIDEO_IDS:
            raise ValueError(f"TikTok accepts at most {MAX_VIDEO_IDS} video ids per query")
        if not video_ids:
            return []
        answer = await self._call(
            Call.VIDEO_QUERY,
            "POST",
            VIDEO_QUERY_PATH,
            retry=_Retry.IDEMPOTENT,
            token=access_token,
            params={"fields": ",".join(VIDEO_FIELDS)},
            json_body={"filters": {"video_ids": list(video_ids)}},
        )
        return _parse(VideoBatch, answer.data, answer).videos

    def _credentials(self) -> dict[str, str]:
        return {
            "client_key": self._client_key,
            "client_secret": self._client_secret.get_secret_value(),
        }

    async def _call(
        self,
        call: Call,
        method: str,
        path: str,
        *,
        retry: _Retry,
        token: str | None = None,
        params: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> Answer:
        headers = {"User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        attempt = 0
        while True:
            attempt += 1
            can_retry = attempt < self._max_attempts
            started = time.perf_counter()
            try:
                response = await self._http.request(
                    method,
                    f"{self._api_base_url}{path}",
                    params=params,
                    data=form,
                    json=json_body,
                    headers=headers,
                )
            except httpx.RequestError as exc:
                error = _transport_error(exc)
                _log(call, attempt, started, None, error)
                if can_retry and (retry is _Retry.IDEMPOTENT or isinstance(exc, _NEVER_SENT)):
                    await self._sleep_before_retry(attempt)
                    continue
                raise error from exc
            try:
                answer = classify(
                    call,
                    response.status_code,
                    response.content,
                    retry_after=response.headers.get("Retry-After"),
                )
            except TikTokError as error:
                _log(call, attempt, started, response.status_code, error)
                if can_retry and retry is _Retry.IDEMPOTENT and _is_transient(error):
                    await self._sleep_before_retry(attempt)
                    continue
                raise
            _log(call, attempt, started, response.status_code, None, answer.log_id)
            return answer

    async def _sleep_before_retry(self, attempt: int) -> None:
        # Exponential backoff with jitter, so callers retrying together do not stay in step.
        delay = self._backoff_seconds * 2 ** (attempt - 1)
        await asyncio.sleep(delay + random.uniform(0, delay))  # noqa: S311 - jitter, not crypto


def _is_transient(error: TikTokError) -> bool:
    # A garbage 200 is not fixed by asking again a moment later; 4xx and 429 are final here.
    return isinstance(error, TikTokUnavailable) and not isinstance(error, TikTokInvalidResponse)


def _transport_error(exc: httpx.RequestError) -> TikTokUnavailable:
    if isinstance(exc, httpx.TimeoutException):
        return TikTokUnavailable("TikTok did not answer in time.")
    return TikTokUnavailable(f"Could not reach TikTok ({type(exc).__name__}).")


def _parse(model: type[ModelT], data: object, answer: Answer) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Locations and error types only: the input may hold tokens.
        problems = ", ".join(
            f"{'.'.join(map(str, error['loc'])) or 'body'}: {error['type']}"
            for error in exc.errors()[:5]
        )
        raise TikTokInvalidResponse(
            f"TikTok's answer has an unexpected shape ({problems}).", log_id=answer.log_id
        ) from exc


def _log(
    call: Call,
    attempt: int,
    started: float,
    status: int | None,
    error: TikTokError | None,
    log_id: str | None = None,
) -> None:
    fields: dict[str, Any] = {
        "endpoint": call.value,
        "attempt": attempt,
        "http_status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "log_id": error.log_id if error else log_id,
    }
    if error is None:
        logger.info("tiktok call", extra=fields)
    else:
        fields |= {"error": error.code, "tiktok_code": error.tiktok_code}
        logger.warning("tiktok call failed", extra=fields)
