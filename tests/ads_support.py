"""Shared by the ads tests: settings with a fake TikTok for Business, a respx fake of the
Marketing API with just enough state for the ads flows, and the connect walk."""

from __future__ import annotations

import csv
import io
import itertools
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import respx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import IntegrationAccount
from app.audit.models import IntegrationLog
from app.core.config import Settings
from tests.conftest import fake_tiktok_settings

BUSINESS_API = "https://business-api.tiktok.test/open_api/v1.3"
BUSINESS_AUTH = "https://business-api.tiktok.test/portal/auth"
BUSINESS_APP_ID = "biz-app-1"
BUSINESS_SECRET = "biz-secret-value-1"
LEADGEN_TOKEN = "leadgen-url-token-0123456789"
TOKEN = "biz-access-token-ONE"
TOKEN_2 = "biz-access-token-TWO"

ACCOUNTS = "/api/integrations/accounts/"
ADS_CALLBACK = "/api/integrations/accounts/oauth/callback/tiktok-ads/"
WEBHOOK_PATH = "/api/integrations/webhooks/tiktok-leadgen/"

# 19-digit ids beyond 2**53, as TikTok's.
ADVERTISER_A = "7131000000000000101"
ADVERTISER_B = "7131000000000000202"
FORM_EN = "7100000000000000001"
FORM_ES = "7100000000000000002"
FORM_B = "7100000000000000003"
CAMPAIGN = "1790000000000000001"
ADGROUP = "1790000000000000002"
AD = "1790000000000000003"

FIXED_COLUMNS = (
    "lead_id",
    "created_time",
    "ad_id",
    "ad_name",
    "adgroup_id",
    "adgroup_name",
    "campaign_id",
    "campaign_name",
    "form_id",
    "form_name",
)


def ads_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "tiktok_business_app_id": BUSINESS_APP_ID,
        "tiktok_business_secret": BUSINESS_SECRET,
        "tiktok_business_auth_url": BUSINESS_AUTH,
        "tiktok_business_api_base_url": BUSINESS_API,
        "leadgen_webhook_token": LEADGEN_TOKEN,
        "leads_backfill_poll_seconds": 0,
    }
    return fake_tiktok_settings(database_url, **(values | overrides))


def envelope(data: object, code: int = 0, request_id: str = "req-ok") -> httpx.Response:
    body = {"code": code, "message": "OK" if code == 0 else f"error {code}"}
    return httpx.Response(200, json=body | {"request_id": request_id, "data": data})


def export_csv(
    rows: Iterable[Sequence[str]],
    questions: Sequence[str] = ("Name", "Email", "Phone number"),
    *,
    bom: bool = True,
    delimiter: str = ",",
) -> bytes:
    """An export file: the fixed columns, then the questions; each row gives every cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow([*FIXED_COLUMNS, *questions])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")


def export_row(
    lead_id: str,
    answers: Sequence[str],
    *,
    form_id: str = FORM_EN,
    form_name: str = "Spring offer",
    created: str = "2026-01-01 10:00:00",
) -> list[str]:
    return [
        lead_id,
        created,
        f'="{AD}"',
        "Spring ad",
        ADGROUP,
        "Spring ad group",
        f"'{CAMPAIGN}",
        "Spring campaign",
        f'="{form_id}"',
        form_name,
        *answers,
    ]


class FakeBusiness:
    """TikTok for Business faked with respx. Tests adjust its state and read its routes;
    `failures["<endpoint>"]` (or `"<endpoint>:<advertiser>"`) holds error codes answered once
    each, inside HTTP 200 as TikTok does."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.tokens = [TOKEN, TOKEN_2]
        self.current_token: str | None = None
        self.granted = [ADVERTISER_A, ADVERTISER_B]
        self.names = {ADVERTISER_A: "Acme Outdoor", ADVERTISER_B: "Tienda Solar"}
        self.forms: dict[str, list[tuple[str, str]]] = {
            ADVERTISER_A: [(FORM_EN, "Spring offer"), (FORM_ES, "Oferta de primavera")],
            ADVERTISER_B: [(FORM_B, "Free quote")],
        }
        self.forms_page_size = 50
        self.exports: dict[tuple[str, str | None], bytes] = {}
        # Answered by a task's successive status polls (the last one repeats).
        self.task_statuses = ["RUNNING", "SUCCEED"]
        self.subscriptions: dict[str, dict[str, str]] = {}
        self.failures: dict[str, list[int]] = {}
        self._tasks: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.exchange = router.post("/oauth2/access_token/").mock(side_effect=self._exchange)
        self.advertisers = router.get("/oauth2/advertiser/get/").mock(side_effect=self._advertisers)
        self.revoke = router.post("/oauth2/revoke_token/").mock(side_effect=self._revoke)
        self.subscribe = router.post("/subscription/subscribe/").mock(side_effect=self._subscribe)
        self.list_subscriptions = router.get("/subscription/get/").mock(
            side_effect=self._list_subscriptions
        )
        self.unsubscribe = router.post("/subscription/unsubscribe/").mock(
            side_effect=self._unsubscribe
        )
        self.page_get = router.get("/page/get/").mock(side_effect=self._forms)
        self.lead_task = router.post("/page/lead/task/").mock(side_effect=self._task)
        self.download = router.get("/page/lead/task/download/").mock(side_effect=self._download)

    def _failure(self, *keys: str) -> httpx.Response | None:
        for key in keys:
            codes = self.failures.get(key)
            if codes:
                return envelope({}, code=codes.pop(0), request_id=f"req-{key}")
        return None

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        failed = self._failure("access_token")
        if failed is not None:
            return failed
        token = self.tokens.pop(0)
        self.current_token = token
        return envelope(
            {"access_token": token, "advertiser_ids": self.granted, "scope": [1, 4]},
            request_id="req-exchange",
        )

    def _advertisers(self, request: httpx.Request) -> httpx.Response:
        failed = self._failure("advertiser_get")
        if failed is not None:
            return failed
        items = [{"advertiser_id": int(a), "advertiser_name": self.names[a]} for a in self.granted]
        return envelope({"list": items})

    def _revoke(self, request: httpx.Request) -> httpx.Response:
        return self._failure("revoke") or envelope({})

    def _subscribe(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        advertiser_id = body["subscription_detail"]["advertiser_id"]
        failed = self._failure("subscribe", f"subscribe:{advertiser_id}")
        if failed is not None:
            return failed
        subscription_id = str(7_300_000_000_000_000_000 + next(self._ids))
        self.subscriptions[subscription_id] = {
            "advertiser_id": advertiser_id,
            "callback_url": body["callback_url"],
        }
        return envelope({"subscription_id": int(subscription_id)})

    def _list_subscriptions(self, request: httpx.Request) -> httpx.Response:
        failed = self._failure("subscription_get")
        if failed is not None:
            return failed
        advertiser_id = request.url.params.get("advertiser_id")
        items = [
            {
                "subscription_id": int(subscription_id),
                "callback_url": target["callback_url"],
                "subscription_detail": {"advertiser_id": int(target["advertiser_id"])},
            }
            for subscription_id, target in self.subscriptions.items()
            if target["advertiser_id"] == advertiser_id
        ]
        return envelope({"list": items})

    def _unsubscribe(self, request: httpx.Request) -> httpx.Response:
        failed = self._failure("unsubscribe")
        if failed is not None:
            return failed
        self.subscriptions.pop(str(json.loads(request.content)["subscription_id"]), None)
        return envelope({})

    def _forms(self, request: httpx.Request) -> httpx.Response:
        advertiser_id = request.url.params["advertiser_id"]
        failed = self._failure("page_get", f"page_get:{advertiser_id}")
        if failed is not None:
            return failed
        page = int(request.url.params.get("page", "1"))
        size = min(int(request.url.params.get("page_size", "10")), self.forms_page_size)
        forms = self.forms.get(advertiser_id, [])
        chosen = forms[(page - 1) * size : page * size]
        items = [
            {
                "page_id": int(form_id),
                "title": title,
                "status": "PUBLISHED",
                "create_time": "2026-01-02 03:04:05",
            }
            for form_id, title in chosen
        ]
        total_page = max(1, -(-len(forms) // size))
        info = {
            "page": page,
            "page_size": size,
            "total_number": len(forms),
            "total_page": total_page,
        }
        return envelope({"list": items, "page_info": info})

    def _task(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        region = request.headers.get("x-lead-region")
        form_id = str(body["page_id"])
        failed = self._failure("lead_task", f"lead_task:{region}")
        if failed is not None:
            return failed
        if "task_id" not in body:
            task_id = str(7_400_000_000_000_000_000 + next(self._ids))
            self._tasks[task_id] = {"form_id": form_id, "region": region, "polls": 0}
            return envelope({"task_id": int(task_id), "status": "CREATED"})
        task = self._tasks[str(body["task_id"])]
        status = self.task_statuses[min(task["polls"], len(self.task_statuses) - 1)]
        task["polls"] += 1
        return envelope({"task_id": body["task_id"], "status": status})

    def _download(self, request: httpx.Request) -> httpx.Response:
        task = self._tasks[request.url.params["task_id"]]
        content = self.exports.get((task["form_id"], task["region"]), export_csv([]))
        return httpx.Response(200, content=content, headers={"Content-Type": "text/csv"})

    def task_requests(self) -> list[tuple[str, str | None]]:
        """(form, region) of each export task created, in order."""
        created = []
        for call in self.lead_task.calls:
            body = json.loads(call.request.content)
            if "task_id" not in body:
                created.append((str(body["page_id"]), call.request.headers.get("x-lead-region")))
        return created


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


async def create_account(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    *,
    platform: str = "tiktok_ads",
    company: str = "acme",
) -> str:
    response = await client.post(
        ACCOUNTS, json={"platform": platform, "name": "Ads"}, headers=auth(company)
    )
    assert response.status_code == 201, response.text
    account_id: str = response.json()["id"]
    return account_id


async def start_connect(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    account_id: str,
    company: str = "acme",
) -> tuple[str, str]:
    """Connect, then the browser's hop: (state, the consent URL the hop sent it to)."""
    started = await client.post(f"{ACCOUNTS}{account_id}/connect/", headers=auth(company))
    assert started.status_code == 200, started.text
    hop = await client.get(started.json()["authorization_url"])
    assert hop.status_code == 302, hop.text
    state: str = started.json()["state"]
    return state, hop.headers["location"]


async def callback(client: httpx.AsyncClient, **params: str) -> dict[str, list[str]]:
    """TikTok's redirect to our callback; where it sends the browser, as a query."""
    response = await client.get(ADS_CALLBACK, params=params)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("http://frontend.test/integrations?"), location
    return query_of(location)


async def connect_ads(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    account_id: str | None = None,
    company: str = "acme",
) -> str:
    """A tiktok_ads account connected through the whole flow; its id."""
    account_id = account_id or await create_account(client, auth, company=company)
    state, _ = await start_connect(client, auth, account_id, company)
    landing = await callback(client, auth_code="auth-code-1", code="auth-code-1", state=state)
    assert landing == {"connected": ["true"], "account_id": [account_id]}, landing
    return account_id


async def account_row(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: str
) -> IntegrationAccount:
    async with sessionmaker() as session:
        row = await session.get(IntegrationAccount, uuid.UUID(account_id))
        assert row is not None
        return row


async def log_entries(
    sessionmaker: async_sessionmaker[AsyncSession], account_id: str
) -> list[IntegrationLog]:
    async with sessionmaker() as session:
        query = (
            select(IntegrationLog)
            .where(IntegrationLog.account_id == uuid.UUID(account_id))
            .order_by(IntegrationLog.created_at)
        )
        return list((await session.scalars(query)).all())
