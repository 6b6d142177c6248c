"""TikTok for Business end to end over real HTTP, against the built-in emulator: connect an
advertiser through the emulator's consent page, receive its leads by webhook, backfill the
rest from the lead export (BOM, Spanish headings, Excel-protected ids, regions), and keep
its lead subscription alive.

The app runs under uvicorn with its background jobs on (backfill worker, subscription
checker), so these tests only use what a CRM and TikTok would: HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urljoin

import httpx
import pytest

from tests.conftest import make_settings, make_token
from tests.e2e.flow import ACCOUNTS, TIMEOUT, ConsentForm, query, stored_rows
from tests.live_server import LiveServer, delete_all_rows, serve

BUSINESS = "/_tiktok/_control/business"
T = TypeVar("T")


@asynccontextmanager
async def _serving(database_url: str, **overrides: Any) -> AsyncIterator[LiveServer]:
    try:
        with serve(
            lambda url: make_settings(
                database_url=database_url,
                api_base_url=url,
                frontend_url=url,
                background_jobs_enabled=True,
                leads_backfill_interval_seconds=0.2,
                leads_backfill_poll_seconds=0.01,
                **overrides,
            )
        ) as server:
            yield server
    finally:
        await delete_all_rows(make_settings(database_url=database_url))


@asynccontextmanager
async def _clients(
    server: LiveServer,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(the CRM frontend's XHR with a bearer token, the browser with its cookie jar)."""
    headers = {"Authorization": f"Bearer {make_token('acme')}"}
    async with (
        httpx.AsyncClient(base_url=server.url, headers=headers, timeout=TIMEOUT) as api,
        httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as browser,
    ):
        yield api, browser


async def _eventually(
    check: Callable[[], Awaitable[T | None]], what: str, within: float = 30.0
) -> T:
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _emulated_advertiser(browser: httpx.AsyncClient) -> dict[str, Any]:
    response = await browser.get(f"{BUSINESS}/advertisers")
    assert response.status_code == 200, response.text
    advertiser: dict[str, Any] = response.json()["advertisers"][0]
    return advertiser


async def _connect(
    server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient, advertiser_id: str
) -> str:
    """Add an ads account and connect it, approving only `advertiser_id` on the consent page."""
    created = await api.post(f"{ACCOUNTS}/", json={"platform": "tiktok_ads", "name": "Ads"})
    assert created.status_code == 201, created.text
    account_id: str = created.json()["id"]
    started = await api.post(f"{ACCOUNTS}/{account_id}/connect/")
    assert started.status_code == 200, started.text
    hop = await browser.get(started.json()["authorization_url"])
    assert hop.status_code == 302, hop.text
    consent_url = hop.headers["location"]
    assert consent_url.startswith(f"{server.url}/_tiktok/portal/auth?")
    page = await browser.get(consent_url)
    assert page.status_code == 200, page.text
    form = ConsentForm(page.text)
    data = form.submission("approve") | {"advertiser_id": [advertiser_id]}
    decided = await browser.post(urljoin(consent_url, form.action), data=data)
    assert decided.status_code == 302, decided.text
    callback = decided.headers["location"]
    assert callback.startswith(server.settings.tiktok_business_redirect + "?")
    assert query(callback).keys() >= {"auth_code", "code", "state"}
    landing = await browser.get(callback)
    assert landing.status_code == 302, landing.text
    assert landing.headers["location"] == (
        f"{server.url}/integrations?connected=true&account_id={account_id}"
    )
    return account_id


async def _live_subscriptions(browser: httpx.AsyncClient, advertiser_id: str) -> list[str]:
    response = await browser.get(f"{BUSINESS}/subscriptions")
    assert response.status_code == 200, response.text
    return [
        s["subscription_id"]
        for s in response.json()["subscriptions"]
        if s["advertiser_id"] == advertiser_id and s["live"]
    ]


async def _submit_leads(
    browser: httpx.AsyncClient, advertiser_id: str, page_id: str, count: int, region: str | None
) -> list[str]:
    body = {"advertiser_id": advertiser_id, "page_id": page_id, "count": count, "region": region}
    response = await browser.post(f"{BUSINESS}/leads", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert [d["status_code"] for d in created["deliveries"]] == [200], created["deliveries"]
    lead_ids: list[str] = created["lead_ids"]
    return lead_ids


async def _leads(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        response = await api.get("/api/integrations/leads/", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def _events(api: httpx.AsyncClient, account_id: str) -> list[str]:
    response = await api.get(f"{ACCOUNTS}/{account_id}/logs/", params={"limit": 100})
    assert response.status_code == 200, response.text
    return [entry["event"] for entry in response.json()["items"]]


async def test_backfill_of_an_export_with_a_bom_localized_headers_and_webhook_leads_creates_only_the_missing_ones(  # noqa: E501
    database_url: str,
) -> None:
    async with _serving(database_url) as server, _clients(server) as (api, browser):
        advertiser = await _emulated_advertiser(browser)
        advertiser_id = advertiser["advertiser_id"]
        english, spanish = advertiser["forms"]
        assert spanish["language"] == "es"
        account_id = await _connect(server, api, browser, advertiser_id)
        assert len(await _live_subscriptions(browser, advertiser_id)) == 1
        forms = await api.get(f"{ACCOUNTS}/{account_id}/lead-forms/")
        assert [f["form_id"] for f in forms.json()["items"]] == [
            english["page_id"],
            spanish["page_id"],
        ]

        # Leads delivered by webhook (signed, batched), stored before the emulator's POST ends.
        by_webhook = await _submit_leads(browser, advertiser_id, spanish["page_id"], 3, None)
        by_webhook += await _submit_leads(browser, advertiser_id, english["page_id"], 1, "eu")
        before = await _leads(api)
        assert sorted(lead["tiktok_lead_id"] for lead in before) == sorted(by_webhook)
        assert {lead["source"] for lead in before} == {"webhook"}

        started = await api.post(f"{ACCOUNTS}/{account_id}/leads/backfill/", json={})
        assert started.status_code == 202, started.text
        job_url = f"{ACCOUNTS}/{account_id}/leads/backfill/{started.json()['id']}/"
        seen: list[tuple[str, int]] = []

        async def finished() -> dict[str, Any] | None:
            job: dict[str, Any] = (await api.get(job_url)).json()
            seen.append((job["status"], job["forms_done"]))
            return job if job["status"] in ("succeeded", "failed") else None

        job = await _eventually(finished, "the backfill to finish")

        assert job["status"] == "succeeded", job
        assert (job["forms_total"], job["forms_done"]) == (2, 2)
        # Each form's export: 2 seeded leads in the default region, 1 EU, 1 US, plus the
        # webhook leads; only the seeded ones are new.
        assert (job["leads_seen"], job["leads_created"]) == (8 + 4, 8)
        assert seen[0][0] in ("queued", "running")
        after = await _leads(api)
        ids = [lead["tiktok_lead_id"] for lead in after]
        assert len(ids) == len(set(ids)) == 12
        assert all(lead_id.isdigit() and len(lead_id) == 19 for lead_id in ids)
        sources = {lead["tiktok_lead_id"]: lead["source"] for lead in after}
        assert {sources[lead_id] for lead_id in by_webhook} == {"webhook"}
        backfilled = [lead for lead in after if lead["source"] == "backfill"]
        assert len(backfilled) == 8
        for lead in backfilled:
            assert lead["company_id"] == "acme"
            assert lead["name"]
            assert lead["email"]
            assert lead["phone"] is None or lead["phone"].startswith("+")
            assert lead["attribution"]["advertiser_id"] == advertiser_id
            assert lead["attribution"]["campaign_id"].isdigit()
        assert sum(1 for lead in backfilled if lead["phone"]) >= 4
        spanish_lead = next(
            lead for lead in backfilled if lead["attribution"]["form_id"] == spanish["page_id"]
        )
        assert [answer["field"] for answer in spanish_lead["answers"]] == [
            "name",
            "email",
            "phone_number",
            spanish["questions"][3],
        ]
        assert "leads.backfill_succeeded" in await _events(api, account_id)

        rows = await stored_rows(server.settings)
        (stored,) = [r for r in rows["integration_accounts"] if str(r["id"]) == account_id]
        assert stored["access_token_ciphertext"]
        assert stored["refresh_token_ciphertext"] is None


async def test_the_checker_re_creates_a_dropped_subscription_and_flags_a_revoked_advertiser(
    database_url: str,
) -> None:
    async with (
        _serving(database_url, leads_subscription_check_interval_seconds=0.3) as server,
        _clients(server) as (api, browser),
    ):
        advertiser = await _emulated_advertiser(browser)
        advertiser_id = advertiser["advertiser_id"]
        account_id = await _connect(server, api, browser, advertiser_id)
        (first,) = await _live_subscriptions(browser, advertiser_id)

        # TikTok loses the subscription (as seen from us: it is gone, without notice).
        dropped = await browser.post(
            "/_tiktok/open_api/v1.3/subscription/unsubscribe/",
            json={
                "app_id": server.settings.tiktok_business_app_id,
                "secret": "sandbox-business-secret",
                "subscription_id": first,
            },
        )
        assert dropped.json()["code"] == 0

        async def recreated() -> str | None:
            live = await _live_subscriptions(browser, advertiser_id)
            return live[0] if live and live[0] != first else None

        second = await _eventually(recreated, "the subscription to be re-created")
        assert second != first

        async def logged() -> list[str] | None:
            # TikTok holds the new subscription a moment before our transaction commits it.
            events = await _events(api, account_id)
            return events if "leads.resubscribed" in events else None

        assert "leads.resubscribed" in await _eventually(logged, "the re-subscription logged")
        (lead_id,) = await _submit_leads(
            browser, advertiser_id, advertiser["forms"][0]["page_id"], 1, None
        )
        assert [lead["tiktok_lead_id"] for lead in await _leads(api)] == [lead_id]

        # The advertiser removes the app in TikTok: token and subscription die silently.
        revoked = await browser.post(f"{BUSINESS}/advertisers/{advertiser_id}/revoke")
        assert revoked.json()["revoked_tokens"] == 1

        async def flagged() -> str | None:
            status: str = (await api.get(f"{ACCOUNTS}/{account_id}/")).json()["status"]
            return status if status == "reauth_required" else None

        await _eventually(flagged, "the account to need reconnecting")

        async def lost() -> list[str] | None:
            # Flagged by the token manager, then logged lost by the checker: two transactions.
            events = await _events(api, account_id)
            return events if "leads.subscription_lost" in events else None

        assert "leads.subscription_lost" in await _eventually(lost, "the lost subscription logged")
