"""The production topology end to end: two API processes (`python -m app serve`, background
jobs off) and one worker (`python -m app worker`) on one PostgreSQL database, TikTok played
by one emulator process, the CRM by a receiver that verifies Standard Webhooks signatures.
Everything goes over real HTTP, as a browser, TikTok and the CRM would send it:

1. Login Kit connect started on replica A (account, connect, first-party hop), the consent
   page approved, the callback delivered to replica B: one cookie jar, one state secret.
   The account reads as connected from A.
2. TikTok-side revoke: the emulator POSTs the signed `authorization.removed` to B; A reads
   the account as disconnected because of it.
3. TikTok for Business: an ads account created and connected on B (hop and callback on the
   public URL), leads submitted at TikTok and announced by its lead webhook; the WORKER, and
   neither API, delivers each lead to the CRM once, signed, under one `webhook-id` of its own.
4. SIGTERM to every process: each of the service's exits 0 in time.

Both replicas are configured with one public URL (API_BASE_URL = A's address), as behind a
load balancer: TikTok requires the code exchange to repeat the authorize request's
redirect_uri, so replicas must agree on it. The test plays the balancer by choosing the
replica for each request. Each process is given the CRM at its own path
(`/hooks/leads/<process>`), so the receiver knows who sent each delivery.

PostgreSQL only, like `test_single_refresh.py`: replicas share PostgreSQL in production.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import ENCRYPTION_KEY, JWT_SECRET, SERVICE_KEY, make_settings
from tests.crm_receiver import CrmReceiver, serve
from tests.e2e.flow import ACCOUNTS, ConsentForm, query
from tests.live_server import delete_all_rows
from tests.reliability.emulator_process import CLIENT_KEY, CLIENT_SECRET
from tests.reliability.support import (
    bearer,
    clean_environment,
    free_port,
    json_of,
    process,
    wait_until_serving,
)
from tiktok_emulator import EmulatorConfig, create_emulator

COMPANY = "rel-topology"
LEADS = 5
TIMEOUT = httpx.Timeout(10.0)
WAIT_SECONDS = 20.0  # for anything eventual (a webhook applied, leads delivered)
STOP_SECONDS = 15.0  # for each process to exit after SIGTERM
BUSINESS_APP_ID = "topology-business-app"
BUSINESS_SECRET = "topology-business-secret"  # the emulator's own
LEADGEN_TOKEN = "topology-leadgen-token-0123456789"
CRM_SECRET = "topology-crm-secret-0123456789"
LOGIN_KIT_WEBHOOK = "/api/integrations/webhooks/tiktok/"
# Read by `emulator` in the emulator's process: where it POSTs Login Kit webhooks.
WEBHOOK_URL_VARIABLE = "TOPOLOGY_EMULATOR_WEBHOOK_URL"
T = TypeVar("T")


def emulator() -> FastAPI:
    """`uvicorn --factory tests.reliability.test_topology:emulator`: the emulator of
    `emulator_process.py`, plus TikTok for Business and a Login Kit webhook URL."""
    return create_emulator(
        EmulatorConfig(
            client_key=CLIENT_KEY,
            client_secret=CLIENT_SECRET,
            webhook_url=os.environ[WEBHOOK_URL_VARIABLE],
            business_app_id=BUSINESS_APP_ID,
            business_secret=BUSINESS_SECRET,
        )
    )


@dataclass
class Crm(CrmReceiver):
    """The shared receiver, also noting which process (the URL's last segment) sent what."""

    senders: list[tuple[str, str]] = field(default_factory=list)  # (path, webhook-id)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = dict(scope["headers"])
        with self.lock:
            self.senders.append((scope["path"], headers.get(b"webhook-id", b"").decode()))
        await super().__call__(scope, receive, send)


def environment(
    database_url: str, public_url: str, emulator_url: str, crm_url: str, **extra: str
) -> dict[str, str]:
    return clean_environment(
        APP_ENV="test",
        DATABASE_URL=database_url,
        API_BASE_URL=public_url,
        FRONTEND_URL="http://frontend.test",
        SECRET_KEY="topology-secret-key-0123456789",
        AUTH_JWT_SECRET=JWT_SECRET,
        SERVICE_API_KEYS=f"crm-backend:{SERVICE_KEY}",
        INTEGRATION_ENCRYPTION_KEY=ENCRYPTION_KEY,
        TIKTOK_CLIENT_ID=CLIENT_KEY,
        TIKTOK_CLIENT_SECRET=CLIENT_SECRET,
        TIKTOK_AUTH_BASE_URL=emulator_url,
        TIKTOK_API_BASE_URL=emulator_url,
        TIKTOK_BUSINESS_APP_ID=BUSINESS_APP_ID,
        TIKTOK_BUSINESS_SECRET=BUSINESS_SECRET,
        TIKTOK_BUSINESS_AUTH_URL=f"{emulator_url}/portal/auth",
        TIKTOK_BUSINESS_API_BASE_URL=f"{emulator_url}/open_api/v1.3",
        LEADGEN_WEBHOOK_TOKEN=LEADGEN_TOKEN,
        CRM_LEADS_WEBHOOK_URL=crm_url,
        CRM_WEBHOOK_SECRET=CRM_SECRET,
        **({"LOG_LEVEL": "WARNING"} | extra),
    )


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        result = await check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {WAIT_SECONDS:.0f}s waiting for {what}")
        await asyncio.sleep(0.1)


def wait_for_line(log: Path, line: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while line not in log.read_text():
        assert child.poll() is None, f"exited with {child.returncode}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {line!r} within {WAIT_SECONDS:.0f}s"
        time.sleep(0.05)


def terminate(children: dict[str, subprocess.Popen[bytes]]) -> dict[str, int | None]:
    """SIGTERM to each at once; each exit code (None: still running after STOP_SECONDS)."""
    for child in children.values():
        child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    codes: dict[str, int | None] = {}
    for name, child in children.items():
        try:
            codes[name] = child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            codes[name] = None
    return codes


def on(replica: str, url: str) -> str:
    """`url` (on the public URL) sent to `replica` instead, as a load balancer may."""
    target = urlsplit(replica)
    return urlsplit(url)._replace(netloc=target.netloc).geturl()


async def connect_login_kit(
    a: str, b: str, emulator_url: str, browser: httpx.AsyncClient
) -> tuple[str, str]:
    """Started on A, approved at TikTok, the callback finished on B; (account id, open_id)."""
    async with httpx.AsyncClient(base_url=a, headers=bearer(COMPANY), timeout=TIMEOUT) as api:
        created = json_of(await api.post(f"{ACCOUNTS}/", json={"platform": "tiktok", "name": "L"}))
        account_id: str = created["id"]
        started = json_of(await api.post(f"{ACCOUNTS}/{account_id}/connect/"))
    hop = await browser.get(started["authorization_url"])
    assert str(hop.url).startswith(a), hop.url  # A's first-party hop sets the state cookie
    assert hop.status_code == 302, hop.text
    consent_url = hop.headers["location"]
    assert consent_url.startswith(f"{emulator_url}/v2/auth/authorize/?"), consent_url
    page = await browser.get(consent_url)
    assert page.status_code == 200, page.text
    form = ConsentForm(page.text)
    open_id = form.users[0]
    decided = await browser.post(
        urljoin(consent_url, form.action), data=form.submission("approve", open_id)
    )
    assert decided.status_code == 302, decided.text
    callback = decided.headers["location"]
    assert callback.startswith(f"{a}/api/integrations/accounts/oauth/callback/tiktok/?")
    landing = await browser.get(on(b, callback))
    assert landing.status_code == 302, landing.text
    assert landing.headers["location"] == (
        f"http://frontend.test/integrations?connected=true&account_id={account_id}"
    ), landing.headers["location"]
    return account_id, open_id


async def connect_ads(
    a: str, b: str, emulator_url: str, browser: httpx.AsyncClient, advertiser_id: str
) -> str:
    """Created and started on B; hop and callback on the public URL (A)."""
    async with httpx.AsyncClient(base_url=b, headers=bearer(COMPANY), timeout=TIMEOUT) as api:
        created = json_of(
            await api.post(f"{ACCOUNTS}/", json={"platform": "tiktok_ads", "name": "Ads"})
        )
        account_id: str = created["id"]
        started = json_of(await api.post(f"{ACCOUNTS}/{account_id}/connect/"))
    hop = await browser.get(started["authorization_url"])
    assert hop.status_code == 302, hop.text
    consent_url = hop.headers["location"]
    assert consent_url.startswith(f"{emulator_url}/portal/auth?"), consent_url
    page = await browser.get(consent_url)
    assert page.status_code == 200, page.text
    form = ConsentForm(page.text)
    data = form.submission("approve") | {"advertiser_id": [advertiser_id]}
    decided = await browser.post(urljoin(consent_url, form.action), data=data)
    assert decided.status_code == 302, decided.text
    callback = decided.headers["location"]
    assert callback.startswith(f"{a}/api/integrations/accounts/oauth/callback/tiktok-ads/?")
    assert query(callback).keys() >= {"auth_code", "state"}
    landing = await browser.get(callback)
    assert landing.status_code == 302, landing.text
    assert "connected=true" in landing.headers["location"], landing.headers["location"]
    return account_id


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_api_replicas_and_a_worker_connect_revoke_and_deliver_leads(
    database_url: str, tmp_path: Path
) -> None:
    began = time.monotonic()
    await delete_all_rows(make_settings(database_url=database_url))
    emulator_url, a, b = (f"http://127.0.0.1:{free_port()}" for _ in range(3))
    logs = {name: tmp_path / f"{name}.log" for name in ("emulator", "api-a", "api-b", "worker")}
    codes: dict[str, int | None] = {}
    try:
        with ExitStack() as stack:
            crm = Crm(secret=CRM_SECRET)
            stack.enter_context(serve(crm))  # sets crm.url
            children: dict[str, subprocess.Popen[bytes]] = {}
            children["emulator"] = stack.enter_context(
                process(
                    [
                        *("-m", "uvicorn", "--factory", "--no-access-log"),
                        "tests.reliability.test_topology:emulator",
                        *("--port", emulator_url.rsplit(":", 1)[1]),
                    ],
                    logs["emulator"],
                    clean_environment(**{WEBHOOK_URL_VARIABLE: b + LOGIN_KIT_WEBHOOK}),
                )
            )
            wait_until_serving(
                f"{emulator_url}/_control/stats", children["emulator"], logs["emulator"]
            )
            for name, url in (("api-a", a), ("api-b", b)):
                children[name] = stack.enter_context(
                    process(
                        ["-m", "app", "serve", "--port", url.rsplit(":", 1)[1]],
                        logs[name],
                        environment(
                            database_url,
                            a,
                            emulator_url,
                            f"{crm.url}/{name}",
                            BACKGROUND_JOBS_ENABLED="false",
                        ),
                    )
                )
            children["worker"] = stack.enter_context(
                process(
                    ["-m", "app", "worker"],
                    logs["worker"],
                    environment(
                        database_url,
                        a,
                        emulator_url,
                        f"{crm.url}/worker",
                        LOG_LEVEL="INFO",
                        CRM_DELIVERY_INTERVAL_SECONDS="0.2",
                        TIKTOK_WEBHOOK_SWEEP_INTERVAL_SECONDS="0.5",
                        LEADS_ATTACH_INTERVAL_SECONDS="0.5",
                    ),
                )
            )
            for name, url in (("api-a", a), ("api-b", b)):
                wait_until_serving(f"{url}/readyz", children[name], logs[name])
            wait_for_line(logs["worker"], "worker started", children["worker"])
            started = time.monotonic()

            async with (
                httpx.AsyncClient(timeout=TIMEOUT) as browser,  # one cookie jar, both replicas
                httpx.AsyncClient(base_url=emulator_url, timeout=TIMEOUT) as tiktok,
                httpx.AsyncClient(base_url=a, headers=bearer(COMPANY), timeout=TIMEOUT) as api_a,
                httpx.AsyncClient(base_url=b, headers=bearer(COMPANY), timeout=TIMEOUT) as api_b,
            ):
                # 1. Login Kit: start on A, callback on B, read on A.
                account_id, open_id = await connect_login_kit(a, b, emulator_url, browser)
                account = json_of(await api_a.get(f"{ACCOUNTS}/{account_id}/"))
                assert account["status"] == "connected", account
                assert account["external_id"] == open_id, account

                # 2. TikTok-side revoke: its signed webhook to B, the effect read on A.
                revoked = json_of(await tiktok.post(f"/_control/users/{open_id}/revoke"))
                assert revoked["webhook"] == {
                    "url": b + LOGIN_KIT_WEBHOOK,
                    "status_code": 200,
                    "error": None,
                }, revoked

                async def disconnected() -> dict[str, Any] | None:
                    read = json_of(await api_a.get(f"{ACCOUNTS}/{account_id}/"))
                    return read if read["status"] == "disconnected" else None

                account = await eventually(disconnected, "the revoke webhook's effect on A")
                assert account["last_error_code"] == "authorization_removed", account
                webhook_applied = time.monotonic()

                # 3. TikTok for Business: connect on B, leads by webhook, delivered by the worker.
                advertisers = json_of(await tiktok.get("/_control/business/advertisers"))
                advertiser = advertisers["advertisers"][0]
                ads_id = await connect_ads(a, b, emulator_url, browser, advertiser["advertiser_id"])
                ads = json_of(await api_a.get(f"{ACCOUNTS}/{ads_id}/"))
                assert ads["status"] == "connected", ads
                subscriptions = json_of(await tiktok.get("/_control/business/subscriptions"))
                live = [
                    s
                    for s in subscriptions["subscriptions"]
                    if s["advertiser_id"] == advertiser["advertiser_id"] and s["live"]
                ]
                assert len(live) == 1, subscriptions
                assert live[0]["callback_url"].startswith(f"{a}/api/integrations/webhooks/")

                submitted_at = time.monotonic()
                submitted = json_of(
                    await tiktok.post(
                        "/_control/business/leads",
                        json={
                            "advertiser_id": advertiser["advertiser_id"],
                            "page_id": advertiser["forms"][0]["page_id"],
                            "count": LEADS,
                            "region": None,
                        },
                    )
                )
                assert [d["status_code"] for d in submitted["deliveries"]] == [200], submitted
                tiktok_ids = set(submitted["lead_ids"])
                assert len(tiktok_ids) == LEADS

                async def all_delivered() -> list[dict[str, Any]] | None:
                    page = json_of(
                        await api_b.get(
                            "/api/integrations/leads/deliveries/", params={"limit": 100}
                        )
                    )
                    items: list[dict[str, Any]] = page["items"]
                    done = len(items) == LEADS and all(d["status"] == "delivered" for d in items)
                    return items if done else None

                deliveries = await eventually(all_delivered, "every lead delivered to the CRM")
                delivered_at = time.monotonic()
                leads = json_of(await api_a.get("/api/integrations/leads/", params={"limit": 100}))[
                    "items"
                ]

            # 4. SIGTERM to all, at once; each must exit 0.
            stopping = time.monotonic()
            codes = terminate(children)
            stopped = time.monotonic()
            worker_log = logs["worker"].read_text()
            with crm.lock:
                received = list(crm.received)
                senders = list(crm.senders)
    except AssertionError:
        for name, log in logs.items():
            print(f"--- {name}\n{log.read_text() if log.exists() else ''}")
        raise
    finally:
        await delete_all_rows(make_settings(database_url=database_url))

    # The leads, as stored and as the CRM received them.
    assert {lead["tiktok_lead_id"] for lead in leads} == tiktok_ids
    lead_events = [item for item in received if item.body["type"] == "lead.created"]
    assert all(item.verified for item in received), [i.webhook_id for i in received]
    assert len(lead_events) == LEADS, [item.body["data"]["tiktok_lead_id"] for item in received]
    assert {item.body["data"]["tiktok_lead_id"] for item in lead_events} == tiktok_ids
    assert {item.body["data"]["id"] for item in lead_events} == {lead["id"] for lead in leads}
    # One webhook-id per lead, the id of its delivery, delivered on the first attempt.
    assert {item.webhook_id for item in lead_events} == {d["id"] for d in deliveries}
    assert {(d["lead_id"], d["id"]) for d in deliveries} == {
        (item.body["data"]["id"], item.webhook_id) for item in lead_events
    }
    assert all(d["attempts"] == 1 for d in deliveries), deliveries
    # Sent by the worker only: the API replicas run no jobs.
    assert {path for path, _ in senders} == {"/hooks/leads/worker"}, senders
    assert "worker started" in worker_log
    # The emulator is plain uvicorn, a harness: since 0.29 uvicorn re-raises the SIGTERM it
    # caught once it has shut down, so "killed by SIGTERM" is its clean exit. The service's
    # own commands must say 0: an orchestrator reads the exit code, and a clean stop must
    # not look like a process the signal killed outright.
    assert codes.pop("emulator") in (0, -signal.SIGTERM)
    assert codes == {"api-a": 0, "api-b": 0, "worker": 0}, (
        f"exit codes after SIGTERM (negative: killed by that signal): {codes}"
    )
    print(
        f"\ntopology: 2 API processes + 1 worker + emulator on PostgreSQL; "
        f"Login Kit A→B connect and revoke webhook on B in {webhook_applied - started:.2f}s; "
        f"{LEADS} leads webhook→A, delivered by the worker in {delivered_at - submitted_at:.2f}s "
        f"({len(received)} CRM requests, all verified); "
        f"SIGTERM: all exited 0 in {stopped - stopping:.2f}s; total {stopped - began:.1f}s"
    )
