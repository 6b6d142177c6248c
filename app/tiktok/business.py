"""The TikTok for Business client: the only code that speaks HTTP to the Marketing API v1.3.

Advertiser OAuth (code exchange, refresh, revoke), advertisers, lead forms, the lead export
task and lead webhook subscriptions. Every JSON answer goes through `classify_business`,
because the Marketing API reports errors inside HTTP 200 (`{"code": 40105, ...}`). Reads
(GETs and the export task's status poll) are retried on transient failures; the other POSTs
only when the request provably never left, because TikTok may already have used the
single-use auth code, rotated the refresh token, created the task or the subscription; the
attempt loop that applies these rules is `app.tiktok.transport`'s, shared with the Login Kit
client. Ids stay exact strings: `json.loads` reads unquoted 19-digit integers as ints, never
floats, and the schemas turn them into strings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, SecretStr

from app.core.config import Settings
from app.tiktok.business_schemas import (
    Advertiser,
    AdvertiserList,
    BusinessToken,
    LeadFormList,
    LeadFormPage,
    LeadSubscription,
    LeadTaskCreated,
    LeadTaskStatus,
    Subscribed,
    SubscriptionList,
)
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
from app.tiktok.transport import USER_AGENT, Retry, Transport, parse_model, token_timeout
from app.tiktok.wire import class_for_status, failure, is_success, json_object, text

logger = logging.getLogger("app.tiktok.business")

REGION_HEADER = "x-lead-region"
LEAD_REGIONS = frozenset({"eu", "us"})

ResultT = TypeVar("ResultT")
ModelT = TypeVar("ModelT", bound=BaseModel)


class BusinessCall(StrEnum):
    """Each Marketing API endpoint; the value is the name used in logs."""

    AUTH_CODE_EXCHANGE = "business_token_exchange"
    REFRESH = "business_token_refresh"
    REVOKE = "business_revoke"
    ADVERTISERS = "business_advertisers"
    LEAD_FORMS = "business_lead_forms"
    LEAD_TASK_CREATE = "business_lead_task_create"
    LEAD_TASK_STATUS = "business_lead_task_status"
    LEAD_DOWNLOAD = "business_lead_download"
    MOCK_LEAD_CREATE = "business_mock_lead_create"
    MOCK_LEAD_DELETE = "business_mock_lead_delete"
    SUBSCRIBE = "business_subscribe"
    SUBSCRIPTIONS = "business_subscriptions"
    UNSUBSCRIBE = "business_unsubscribe"


@dataclass(frozen=True, slots=True)
class BusinessAnswer:
    """A successful envelope's `data` and its `request_id`."""

    data: dict[str, Any]
    request_id: str | None


# The Marketing API's `code` values (TIKTOK_API.md §4); any other non-zero code is final.
_RATE_LIMITED = frozenset({40100, 40016, 40133})
# Token expired, token invalid (revoked); on a refresh: the refresh token is dead.
_REAUTH = frozenset({40102, 40105})
_NO_PERMISSION = 40001
_BAD_PARAMS = 40002
_SERVER_BUSY = 60001


def _class_for_code(call: BusinessCall, code: int) -> type[TikTokError]:
    if code in _RATE_LIMITED:
        return TikTokRateLimited
    if code in _REAUTH:
        return TikTokReauthRequired
    if code == _NO_PERMISSION:
        return TikTokScopeNotGranted
    if 50000 <= code <= 59999 or code == _SERVER_BUSY:
        return TikTokUnavailable
    # 40002 and every undocumented code. A refused auth code asks the user to start again.
    return TikTokCodeRejected if call is BusinessCall.AUTH_CODE_EXCHANGE else TikTokBadRequest


def classify_business(
    call: BusinessCall, status: int, body: bytes, *, retry_after: str | None = None
) -> BusinessAnswer:
    """The envelope's data, or the `TikTokError` it means (raised).

    TikTok's `code` decides when the body is an envelope, whatever the HTTP status; otherwise
    the status does (5xx retryable, 4xx final), and a 2xx that is no envelope is invalid.
    """
    document = json_object(body)
    code = document.get("code") if document is not None else None
    if document is None or not isinstance(code, int) or isinstance(code, bool):
        error_class = class_for_status(status)
        why = "is not a Marketing API envelope"
        raise _error(error_class, why, status=status, retry_after=retry_after)
    request_id = text(document.get("request_id"))
    message = text(document.get("message"))
    if code != 0:
        raise _error(
            _class_for_code(call, code),
            f"carries error code {code}",
            status=status,
            code=code,
            request_id=request_id,
            tiktok_message=message,
            retry_after=retry_after,
        )
    if not is_success(status):
        raise _error(
            class_for_status(status),
            "has a failure status",
            status=status,
            code=code,
            request_id=request_id,
            retry_after=retry_after,
        )
    data = document.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TikTokInvalidResponse(
            "TikTok's answer has no data object.", log_id=request_id, http_status=status
        )
    return BusinessAnswer(data, request_id)


def _error(
    error_class: type[TikTokError],
    why: str,
    *,
    status: int,
    code: int | None = None,
    request_id: str | None = None,
    tiktok_message: str | None = None,
    retry_after: str | None,
) -> TikTokError:
    return failure(
        error_class,
        why,
        status=status,
        tiktok_code=str(code) if code is not None else None,
        log_id=request_id,
        tiktok_message=tiktok_message,
        retry_after=retry_after,
    )


class TikTokBusinessClient:
    def __init__(
        self,
        *,
        app_id: str,
        secret: str,
        auth_url: str,
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
            log_message="tiktok business call",
            service="TikTok for Business",
        )
        self._app_id = app_id
        self._secret = SecretStr(secret)
        self._auth_url = auth_url
        # Paths are relative and keep TikTok's trailing slash: `{base}/page/get/`.
        self._api_base_url = api_base_url.rstrip("/") + "/"

    @classmethod
    def from_settings(
        cls, settings: Settings, http: httpx.AsyncClient | None = None
    ) -> TikTokBusinessClient:
        secret = settings.tiktok_business_secret
        if not settings.tiktok_business_app_id or secret is None or not secret.get_secret_value():
            raise TikTokNotConfigured(
                "TikTok for Business is not configured: set TIKTOK_BUSINESS_APP_ID and "
                "TIKTOK_BUSINESS_SECRET."
            )
        return cls(
            app_id=settings.tiktok_business_app_id,
            secret=secret.get_secret_value(),
            auth_url=settings.tiktok_business_auth_url,
            api_base_url=settings.tiktok_business_api_base_url,
            http=http,
            read_deadline_seconds=settings.tiktok_read_deadline_seconds,
            token_timeout_seconds=settings.tiktok_token_timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._transport.aclose()

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        params = {"app_id": self._app_id, "state": state, "redirect_uri": redirect_uri}
        return f"{self._auth_url}?{urlencode(params)}"

    async def exchange_auth_code(self, auth_code: str) -> BusinessToken:
        answer = await self._call(
            BusinessCall.AUTH_CODE_EXCHANGE,
            "POST",
            "oauth2/access_token/",
            retry=Retry.NEVER_SENT_ONLY,
            json_body=self._credentials() | {"auth_code": auth_code},
            http_timeout=self._token_timeout,
        )
        return _parse(BusinessToken, answer)

    async def refresh_token(self, refresh_token: str) -> BusinessToken:
        """A new access token (and, when TikTok rotates them, a new refresh token).

        Sent once: a refresh that reached TikTok may already have replaced the refresh token,
        so it is retried only when the request never left. 40102/40105 mean the refresh token
        is dead (`TikTokReauthRequired`).
        """
        answer = await self._call(
            BusinessCall.REFRESH,
            "POST",
            "oauth2/refresh_token/",
            retry=Retry.NEVER_SENT_ONLY,
            json_body=self._credentials() | {"refresh_token": refresh_token},
            http_timeout=self._token_timeout,
        )
        return _parse(BusinessToken, answer)

    async def revoke(self, access_token: str) -> None:
        # Retried like a read: a retry after a revoke that did land answers 40105, which the
        # caller reads as "already revoked".
        await self._call(
            BusinessCall.REVOKE,
            "POST",
            "oauth2/revoke_token/",
            retry=Retry.IDEMPOTENT,
            json_body=self._credentials() | {"access_token": access_token},
        )

    async def advertisers(self, access_token: str) -> list[Advertiser]:
        answer = await self._call(
            BusinessCall.ADVERTISERS,
            "GET",
            "oauth2/advertiser/get/",
            retry=Retry.IDEMPOTENT,
            token=access_token,
            params=self._credentials(),
        )
        return _parse(AdvertiserList, answer).advertisers

    async def lead_forms(
        self, access_token: str, advertiser_id: str, *, page: int = 1, page_size: int = 50
    ) -> LeadFormPage:
        if page < 1 or page_size < 1:
            raise ValueError("page and page_size must be at least 1")
        answer = await self._call(
            BusinessCall.LEAD_FORMS,
            "GET",
            "page/get/",
            retry=Retry.IDEMPOTENT,
            token=access_token,
            params={
                "advertiser_id": advertiser_id,
                "business_type": "LEAD_GEN",
                "page": str(page),
                "page_size": str(page_size),
            },
        )
        forms = _parse(LeadFormList, answer)
        return LeadFormPage(
            forms=forms.forms,
            page=forms.page_info.page,
            total_page=forms.page_info.total_page,
            total_number=forms.page_info.total_number,
        )

    async def create_lead_task(
        self, access_token: str, advertiser_id: str, page_id: str, *, region: str | None = None
    ) -> str:
        answer = await self._call(
            BusinessCall.LEAD_TASK_CREATE,
            "POST",
            "page/lead/task/",
            retry=Retry.NEVER_SENT_ONLY,
            token=access_token,
            region=region,
            json_body={"advertiser_id": advertiser_id, "page_id": page_id},
        )
        return _parse(LeadTaskCreated, answer).task_id

    async def lead_task_status(
        self,
        access_token: str,
        advertiser_id: str,
        page_id: str,
        task_id: str,
        *,
        region: str | None = None,
    ) -> str:
        # A POST, but with a task_id it only reads the task's status: safe to repeat.
        answer = await self._call(
            BusinessCall.LEAD_TASK_STATUS,
            "POST",
            "page/lead/task/",
            retry=Retry.IDEMPOTENT,
            token=access_token,
            region=region,
            json_body={"advertiser_id": advertiser_id, "page_id": page_id, "task_id": task_id},
        )
        return _parse(LeadTaskStatus, answer).status

    async def download_leads(
        self, access_token: str, advertiser_id: str, task_id: str, *, region: str | None = None
    ) -> bytes:
        """The export file as sent: CSV (UTF-8, maybe with a BOM) or a zip holding one CSV."""
        return await self._request(
            BusinessCall.LEAD_DOWNLOAD,
            "GET",
            "page/lead/task/download/",
            read=_read_file,
            retry=Retry.IDEMPOTENT,
            token=access_token,
            region=region,
            params={"advertiser_id": advertiser_id, "task_id": task_id},
        )

    async def create_mock_lead(
        self, access_token: str, advertiser_id: str, page_id: str
    ) -> str | None:
        """A test lead on the form (one per form; delete it to make another), delivered to
        live subscriptions like a real one; its lead id when TikTok's answer names it."""
        answer = await self._call(
            BusinessCall.MOCK_LEAD_CREATE,
            "POST",
            "page/lead/mock/create/",
            retry=Retry.NEVER_SENT_ONLY,
            token=access_token,
            json_body={"advertiser_id": advertiser_id, "page_id": page_id},
        )
        lead_id = answer.data.get("lead_id")
        return str(lead_id) if isinstance(lead_id, int | str) and str(lead_id) else None

    async def delete_mock_lead(self, access_token: str, advertiser_id: str, page_id: str) -> None:
        await self._call(
            BusinessCall.MOCK_LEAD_DELETE,
            "POST",
            "page/lead/mock/delete/",
            retry=Retry.NEVER_SENT_ONLY,
            token=access_token,
            json_body={"advertiser_id": advertiser_id, "page_id": page_id},
        )

    async def subscribe_leads(
        self,
        access_token: str,
        advertiser_id: str,
        callback_url: str,
        *,
        page_id: str | None = None,
    ) -> str:
        detail: dict[str, str] = {
            "access_token": access_token,
            "advertiser_id": advertiser_id,
            "lead_source": "INSTANT_FORM",
        }
        if page_id is not None:
            detail["page_id"] = page_id
        answer = await self._call(
            BusinessCall.SUBSCRIBE,
            "POST",
            "subscription/subscribe/",
            retry=Retry.NEVER_SENT_ONLY,
            json_body=self._credentials()
            | {
                "subscribe_entity": "LEAD",
                "callback_url": callback_url,
                "subscription_detail": detail,
            },
        )
        return _parse(Subscribed, answer).subscription_id

    async def subscriptions(self, access_token: str, advertiser_id: str) -> list[LeadSubscription]:
        answer = await self._call(
            BusinessCall.SUBSCRIPTIONS,
            "GET",
            "subscription/get/",
            retry=Retry.IDEMPOTENT,
            token=access_token,
            params=self._credentials()
            | {"subscribe_entity": "LEAD", "advertiser_id": advertiser_id},
        )
        return _parse(SubscriptionList, answer).subscriptions

    async def unsubscribe(self, subscription_id: str) -> None:
        await self._call(
            BusinessCall.UNSUBSCRIBE,
            "POST",
            "subscription/unsubscribe/",
            retry=Retry.IDEMPOTENT,
            json_body=self._credentials() | {"subscription_id": subscription_id},
        )

    def _credentials(self) -> dict[str, str]:
        return {"app_id": self._app_id, "secret": self._secret.get_secret_value()}

    async def _call(
        self,
        call: BusinessCall,
        method: str,
        path: str,
        *,
        retry: Retry,
        token: str | None = None,
        region: str | None = None,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        http_timeout: httpx.Timeout | None = None,
    ) -> BusinessAnswer:
        return await self._request(
            call,
            method,
            path,
            read=_read_envelope,
            retry=retry,
            token=token,
            region=region,
            params=params,
            json_body=json_body,
            http_timeout=http_timeout,
        )

    async def _request(
        self,
        call: BusinessCall,
        method: str,
        path: str,
        *,
        read: Callable[[BusinessCall, httpx.Response], tuple[ResultT, str | None]],
        retry: Retry,
        token: str | None = None,
        region: str | None = None,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        http_timeout: httpx.Timeout | None = None,
    ) -> ResultT:
        headers = {"User-Agent": USER_AGENT} | _region_header(region)
        if token is not None:
            headers["Access-Token"] = token
        return await self._transport.send(
            call,
            method,
            f"{self._api_base_url}{path}",
            read=read,
            retry=retry,
            headers=headers,
            params=params,
            json_body=json_body,
            http_timeout=http_timeout,
        )


def _read_envelope(
    call: BusinessCall, response: httpx.Response
) -> tuple[BusinessAnswer, str | None]:
    answer = classify_business(
        call,
        response.status_code,
        response.content,
        retry_after=response.headers.get("Retry-After"),
    )
    return answer, answer.request_id


def _read_file(call: BusinessCall, response: httpx.Response) -> tuple[bytes, str | None]:
    """The raw export file; a JSON body is TikTok's envelope reporting why there is none."""
    body = response.content
    is_json = "json" in response.headers.get("Content-Type", "") or body.lstrip()[:1] == b"{"
    if is_json or not is_success(response.status_code):
        answer = classify_business(
            call, response.status_code, body, retry_after=response.headers.get("Retry-After")
        )
        raise TikTokInvalidResponse(
            "TikTok answered the download with an envelope instead of a file.",
            log_id=answer.request_id,
            http_status=response.status_code,
        )
    # A file carries no envelope, hence no request_id; TikTok's gateway log id if sent.
    return body, response.headers.get("X-Tt-Logid")


def _region_header(region: str | None) -> dict[str, str]:
    # EU/UK and US leads only come back when the request names their region.
    if region is None:
        return {}
    if region not in LEAD_REGIONS:
        raise ValueError(f"region must be None or one of {sorted(LEAD_REGIONS)}")
    return {REGION_HEADER: region}


def _parse(model: type[ModelT], answer: BusinessAnswer) -> ModelT:
    return parse_model(model, answer.data, log_id=answer.request_id, root="data")
