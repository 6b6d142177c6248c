"""Shared by the ads tests: settings whose TikTok for Business is the emulator, the emulator
served in process behind the service's HTTP client, and the connect walk."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import respx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import IntegrationAccount
from app.audit.models import IntegrationLog
from app.core.config import Settings
from tests.conftest import fake_tiktok_settings
from tests.test_sandbox_business import read_consent
from tiktok_emulator import EmulatorConfig, EmulatorState, create_emulator

BUSINESS_HOST = "business-api.tiktok.test"
BUSINESS_API = f"https://{BUSINESS_HOST}/open_api/v1.3"
BUSINESS_AUTH = f"https://{BUSINESS_HOST}/portal/auth"
BUSINESS_APP_ID = "biz-app-1"
BUSINESS_SECRET = "biz-secret-value-1"
LEADGEN_TOKEN = "leadgen-url-token-0123456789"

ACCOUNTS = "/api/integrations/accounts/"
ADS_CALLBACK = "/api/integrations/accounts/oauth/callback/tiktok-ads/"
WEBHOOK_PATH = "/api/integrations/webhooks/tiktok-leadgen/"

# 19-digit ids beyond 2**53, as TikTok's.
ADVERTISER_A = "7131000000000000101"
ADVERTISER_B = "7131000000000000202"
FORM_EN = "7100000000000000001"
FORM_ES = "7100000000000000002"
FORM_B = "7100000000000000003"
FORMS_CREATED = 1_767_323_045  # 2026-01-02 03:04:05 UTC

# The advertisers TikTok offers on its consent page in the ads tests, and their forms
# (the emulator's `PUT /_control/business/advertisers`).
ADVERTISERS: list[dict[str, Any]] = [
    {
        "advertiser_id": ADVERTISER_A,
        "advertiser_name": "Acme Outdoor",
        "forms": [
            {"page_id": FORM_EN, "title": "Spring offer", "language": "en"},
            {"page_id": FORM_ES, "title": "Oferta de primavera", "language": "es"},
        ],
    },
    {
        "advertiser_id": ADVERTISER_B,
        "advertiser_name": "Tienda Solar",
        "forms": [{"page_id": FORM_B, "title": "Free quote", "language": "en"}],
    },
]


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


def _served_by(app: FastAPI) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
    """A respx side effect: the answer of an ASGI app, read whole so that the call keeps it."""
    transport = httpx.ASGITransport(app=app)

    async def answer(request: httpx.Request) -> httpx.Response:
        response = await transport.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    return answer


class EmulatedBusiness:
    """TikTok for Business played by the emulator (`tiktok_emulator`), in process.

    respx hands every request to the Marketing API's host, the service's and the test
    browser's, to the emulator's ASGI app, and keeps the calls of each endpoint for the tests
    to read (`exchange.calls`, ...). Tests set the emulator up and inject its faults through
    its control API, and read what TikTok holds (tokens issued, live subscriptions) from its
    state.
    """

    def __init__(self, router: respx.MockRouter, emulator: FastAPI) -> None:
        answer = _served_by(emulator)

        def endpoint(method: str, path: str) -> respx.Route:
            return router.route(method=method, url=f"{BUSINESS_API}/{path}").mock(
                side_effect=answer
            )

        self.exchange = endpoint("POST", "oauth2/access_token/")
        self.revoke = endpoint("POST", "oauth2/revoke_token/")
        self.subscribe = endpoint("POST", "subscription/subscribe/")
        self.list_subscriptions = endpoint("GET", "subscription/get/")
        self.unsubscribe = endpoint("POST", "subscription/unsubscribe/")
        self.page_get = endpoint("GET", "page/get/")
        self.lead_task = endpoint("POST", "page/lead/task/")
        router.route(host=BUSINESS_HOST).mock(side_effect=answer)  # every other path
        self._router = router
        self._emulator = emulator
        self._control_http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=emulator),
            base_url="http://emulator.test/_control/business/",
        )

    @property
    def _state(self) -> EmulatorState:
        state: EmulatorState = self._emulator.state.emulator
        return state

    async def _control(self, method: str, path: str, json_body: object = None) -> Any:
        response = await self._control_http.request(method, path, json=json_body)
        assert response.is_success, response.text
        return response.json()

    async def aclose(self) -> None:
        await self._control_http.aclose()

    async def set_advertisers(self, advertisers: Sequence[dict[str, Any]]) -> None:
        """The advertisers TikTok offers (each form made on `FORMS_CREATED`), and no lead."""
        dated = [
            advertiser
            | {"forms": [{"create_time": FORMS_CREATED} | form for form in advertiser["forms"]]}
            for advertiser in advertisers
        ]
        await self._control("PUT", "advertisers", {"advertisers": dated})

    async def add_leads(
        self, page_id: str, *, region: str | None = None, count: int = 1, **answers: str
    ) -> list[str]:
        """Leads TikTok holds for a form (not announced by webhook); their ids."""
        spec = {"page_id": page_id, "region": region, "count": count, "deliver": False}
        created = await self._control("POST", "leads", spec | {"answers": answers})
        lead_ids: list[str] = created["lead_ids"]
        return lead_ids

    def deliver_webhooks_to(self, app: FastAPI, host: str = "testserver") -> None:
        """The emulator's lead webhooks (to the callback URL at `host`) reach `app`."""
        self._router.route(host=host).mock(side_effect=_served_by(app))

    def pass_through(self, url: str) -> None:
        """Requests to `url` (and below) go out for real (a CRM served on loopback)."""
        self._router.route(url__startswith=url).pass_through()

    async def create_leads(
        self, page_id: str, *, region: str | None = None, count: int = 1
    ) -> tuple[list[str], list[str]]:
        """Leads TikTok holds for a form, announced by webhook to live subscriptions but
        for the share it drops: (their ids, the dropped ones)."""
        spec = {"page_id": page_id, "region": region, "count": count, "deliver": True}
        created = await self._control("POST", "leads", spec)
        return created["lead_ids"], created["dropped"]

    async def drop_webhooks(self, share: float) -> None:
        """TikTok never sends the webhooks of this share of the next leads."""
        await self._control("PATCH", "webhooks", {"drop_share": share})

    async def fault(self, endpoint: str, kind: str = "error_code", **spec: Any) -> None:
        """The emulator's next answers of `endpoint` go wrong (see its /docs for the kinds)."""
        await self._control("POST", "faults", {"endpoint": endpoint, "kind": kind} | spec)

    async def revoke_advertiser(self, advertiser_id: str) -> None:
        """The advertiser removes the app in TikTok: its tokens and subscriptions die."""
        await self._control("POST", f"advertisers/{advertiser_id}/revoke")

    async def drop_subscription(self, subscription_id: str) -> None:
        """TikTok stops a subscription silently."""
        await self._control("POST", f"subscriptions/{subscription_id}/drop")

    async def page_forms_by(self, size: int) -> None:
        """TikTok answers pages of at most `size` forms, whatever the client asks."""
        await self._control("PATCH", "paging", {"forms_page_size": size})

    def access_tokens(self) -> list[str]:
        """Every access token TikTok issued, oldest first."""
        return list(self._state.business.grants)

    def subscription_ids(self, advertiser_id: str | None = None) -> set[str]:
        """The subscriptions TikTok lists (and delivers to) now."""
        live = self._state.business.live_subscriptions(advertiser_id)
        return {subscription.subscription_id for subscription in live}

    def task_requests(self) -> list[tuple[str, str | None]]:
        """(form, region) of each export task created, in order."""
        created = []
        for call in self.lead_task.calls:
            body = json.loads(call.request.content)
            if "task_id" not in body:
                created.append((str(body["page_id"]), call.request.headers.get("x-lead-region")))
        return created


@asynccontextmanager
async def emulated_business(settings: Settings) -> AsyncIterator[EmulatedBusiness]:
    """The emulator as the TikTok for Business of `ads_settings`, offering `ADVERTISERS`."""
    emulator = create_emulator(
        EmulatorConfig(
            business_app_id=BUSINESS_APP_ID,
            business_secret=BUSINESS_SECRET,
            business_redirect_uris=[settings.tiktok_business_redirect],
        )
    )
    with respx.mock(assert_all_called=False) as router:
        business = EmulatedBusiness(router, emulator)
        try:
            await business.set_advertisers(ADVERTISERS)
            yield business
        finally:
            await business.aclose()


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


async def consent(
    consent_url: str, decision: str = "approve", advertisers: Sequence[str] | None = None
) -> dict[str, str]:
    """The advertiser decides on TikTok's consent page (all advertisers ticked unless
    `advertisers` says which): the query TikTok sends the browser back to our callback with."""
    async with httpx.AsyncClient() as browser:
        page = await browser.get(consent_url)
        assert page.status_code == 200, page.text
        form = read_consent(page.text)
        ticked = form.advertisers if advertisers is None else list(advertisers)
        decided = await browser.post(
            urljoin(consent_url, form.action),
            data={**form.hidden, "decision": decision, "advertiser_id": ticked},
        )
    assert decided.status_code == 302, decided.text
    location = decided.headers["location"]
    assert urlsplit(location).path == ADS_CALLBACK, location
    return {name: values[0] for name, values in query_of(location).items()}


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
    """A tiktok_ads account connected through the whole flow, every advertiser approved on
    TikTok's consent page; its id."""
    account_id = account_id or await create_account(client, auth, company=company)
    state, consent_url = await start_connect(client, auth, account_id, company)
    approved = await consent(consent_url)
    assert approved["state"] == state, approved
    landing = await callback(client, **approved)
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
