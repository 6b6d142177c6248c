"""The TikTok upstream client: the only code that speaks HTTP to Login Kit and the Display API.

One long-lived `httpx.AsyncClient` and one typed method per endpoint. Every answer goes
through `classify`, so TikTok's error shapes become the errors of `app.tiktok.errors` in one
place. Reads and revoke are retried on network errors and 5xx; token grants only when the
request provably never left, because TikTok may already have consumed the single-use code or
rotated the refresh token, and a retry with the old one would kill the new one. The attempt
loop that applies these rules is `app.tiktok.transport`'s, shared with the Business client.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from app.core.config import Settings
from app.tiktok.errors import TikTokNotConfigured
from app.tiktok.responses import Answer, Call, classify
from app.tiktok.schemas import VIDEO_FIELDS, TikTokUser, TokenSet, VideoPage
from app.tiktok.scopes import scope_fields
from app.tiktok.transport import USER_AGENT, Retry, Transport, parse_model, token_timeout

logger = logging.getLogger("app.tiktok")

MAX_PAGE_SIZE = 20

AUTHORIZE_PATH = "/v2/auth/authorize/"
TOKEN_PATH = "/v2/oauth/token/"  # noqa: S105 - a URL path, not a secret
REVOKE_PATH = "/v2/oauth/revoke/"
USER_INFO_PATH = "/v2/user/info/"
VIDEO_LIST_PATH = "/v2/video/list/"


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
        read_deadline_seconds: float | None = None,
        token_timeout_seconds: float | None = None,
    ) -> None:
        # Token grants wait longer than reads: see TIKTOK_TOKEN_TIMEOUT_SECONDS.
        self._token_timeout = token_timeout(token_timeout_seconds)
        self._transport = Transport.open(
            http,
            max_attempts=max_attempts,
            backoff_seconds=backoff_seconds,
            read_deadline_seconds=read_deadline_seconds,
            logger=logger,
            log_message="tiktok call",
            service="TikTok",
        )
        self._client_key = client_key
        self._client_secret = SecretStr(client_secret)
        self._auth_base_url = auth_base_url.rstrip("/")
        self._api_base_url = api_base_url.rstrip("/")

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
            read_deadline_seconds=settings.tiktok_read_deadline_seconds,
            token_timeout_seconds=settings.tiktok_token_timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._transport.aclose()

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
            Call.CODE_EXCHANGE,
            "POST",
            TOKEN_PATH,
            retry=Retry.NEVER_SENT_ONLY,
            form=form,
            http_timeout=self._token_timeout,
        )
        return parse_model(TokenSet, answer.data, log_id=answer.log_id)

    async def refresh(self, refresh_token: str) -> TokenSet:
        form = self._credentials() | {"grant_type": "refresh_token", "refresh_token": refresh_token}
        answer = await self._call(
            Call.REFRESH,
            "POST",
            TOKEN_PATH,
            retry=Retry.NEVER_SENT_ONLY,
            form=form,
            http_timeout=self._token_timeout,
        )
        return parse_model(TokenSet, answer.data, log_id=answer.log_id)

    async def revoke(self, access_token: str) -> None:
        form = self._credentials() | {"token": access_token}
        await self._call(Call.REVOKE, "POST", REVOKE_PATH, retry=Retry.IDEMPOTENT, form=form)

    async def user_info(self, access_token: str, scopes: Iterable[str]) -> TikTokUser:
        answer = await self._call(
            Call.USER_INFO,
            "GET",
            USER_INFO_PATH,
            retry=Retry.IDEMPOTENT,
            token=access_token,
            params={"fields": ",".join(scope_fields(scopes))},
        )
        return parse_model(TikTokUser, answer.data.get("user"), log_id=answer.log_id)

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
            retry=Retry.IDEMPOTENT,
            token=access_token,
            params={"fields": ",".join(VIDEO_FIELDS)},
            json_body=body,
        )
        return parse_model(VideoPage, answer.data, log_id=answer.log_id)

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
        retry: Retry,
        token: str | None = None,
        params: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        http_timeout: httpx.Timeout | None = None,
    ) -> Answer:
        headers = {"User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await self._transport.send(
            call,
            method,
            f"{self._api_base_url}{path}",
            read=_read,
            retry=retry,
            headers=headers,
            params=params,
            form=form,
            json_body=json_body,
            http_timeout=http_timeout,
        )


def _read(call: Call, response: httpx.Response) -> tuple[Answer, str | None]:
    answer = classify(
        call,
        response.status_code,
        response.content,
        retry_after=response.headers.get("Retry-After"),
    )
    return answer, answer.log_id
