"""Shared pieces of the reliability suite: a live service with the built-in emulator, data
seeded through it as a CRM and TikTok would, and real service processes for the
multi-process scenarios."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from tests.conftest import REPO_ROOT, make_token
from tests.e2e.flow import ACCOUNTS, TIMEOUT, ConsentForm, decide, follow, open_consent, query
from tests.e2e.inbox import apply_stored_webhooks
from tests.live_server import LiveServer

BUSINESS_CONTROL = "/_tiktok/_control/business"
# An address nothing listens on: deliveries are queued, never sent (jobs are off anyway).
UNREACHABLE_CRM = "http://127.0.0.1:9/hooks/leads"
CRM_SECRET = "reliability-crm-secret-0123456789"


def bearer(company: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(company)}"}


@dataclass
class Seeded:
    """What exists for one company, by kind: ids a test can aim at."""

    company: str
    login_kit: list[str] = field(default_factory=list)  # connected through the emulator
    pending: list[str] = field(default_factory=list)
    ads: list[str] = field(default_factory=list)  # connected tiktok_ads accounts
    backfills: list[tuple[str, str]] = field(default_factory=list)  # (account id, job id)
    leads: list[str] = field(default_factory=list)
    deliveries: list[str] = field(default_factory=list)


async def create_account(api: httpx.AsyncClient, platform: str, name: str) -> str:
    response = await api.post(f"{ACCOUNTS}/", json={"platform": platform, "name": name})
    assert response.status_code == 201, response.text
    account_id: str = response.json()["id"]
    return account_id


async def connect_login_kit(server: LiveServer, company: str, user_index: int = 0) -> str:
    """A Login Kit account connected through the emulator's consent page; its id."""
    async with (
        httpx.AsyncClient(base_url=server.url, headers=bearer(company), timeout=TIMEOUT) as api,
        httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as browser,
    ):
        account_id = await create_account(api, "tiktok", f"{company} brand")
        consent_url, form = await open_consent(server, api, browser, account_id)
        callback = await decide(browser, consent_url, form, "approve", form.users[user_index])
        landing = await follow(browser, callback)
        assert "connected=true" in landing, landing
    return account_id


async def connect_ads(server: LiveServer, company: str, advertiser_index: int = 0) -> str:
    """A tiktok_ads account connected through the emulator's advertiser consent page."""
    async with (
        httpx.AsyncClient(base_url=server.url, headers=bearer(company), timeout=TIMEOUT) as api,
        httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as browser,
    ):
        advertisers = (await browser.get(f"{BUSINESS_CONTROL}/advertisers")).json()["advertisers"]
        advertiser_id = advertisers[advertiser_index]["advertiser_id"]
        account_id = await create_account(api, "tiktok_ads", f"{company} ads")
        started = await api.post(f"{ACCOUNTS}/{account_id}/connect/")
        assert started.status_code == 200, started.text
        hop = await browser.get(started.json()["authorization_url"])
        assert hop.status_code == 302, hop.text
        consent_url = hop.headers["location"]
        page = await browser.get(consent_url)
        assert page.status_code == 200, page.text
        form = ConsentForm(page.text)
        data = form.submission("approve") | {"advertiser_id": [advertiser_id]}
        decided = await browser.post(urljoin(consent_url, form.action), data=data)
        assert decided.status_code == 302, decided.text
        assert query(decided.headers["location"]).keys() >= {"auth_code", "state"}
        landing = await follow(browser, decided.headers["location"])
        assert "connected=true" in landing, landing
    return account_id


async def seed_company(
    server: LiveServer, company: str, *, advertiser_index: int, user_index: int = 0, leads: int = 2
) -> Seeded:
    """One of everything that has an id, for `company`, made through the public surface:
    a connected Login Kit account, a pending one, a connected ads account with leads
    delivered by TikTok's (the emulator's) signed webhook, their CRM deliveries, and a
    backfill job."""
    seeded = Seeded(company)
    seeded.login_kit.append(await connect_login_kit(server, company, user_index))
    ads_id = await connect_ads(server, company, advertiser_index)
    seeded.ads.append(ads_id)
    async with (
        httpx.AsyncClient(base_url=server.url, headers=bearer(company), timeout=TIMEOUT) as api,
        httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as browser,
    ):
        seeded.pending.append(await create_account(api, "tiktok", f"{company} pending"))
        advertisers = (await browser.get(f"{BUSINESS_CONTROL}/advertisers")).json()["advertisers"]
        advertiser = advertisers[advertiser_index]
        submitted = await browser.post(
            f"{BUSINESS_CONTROL}/leads",
            json={
                "advertiser_id": advertiser["advertiser_id"],
                "page_id": advertiser["forms"][0]["page_id"],
                "count": leads,
                "region": None,
            },
        )
        assert submitted.status_code == 201, submitted.text
        assert [d["status_code"] for d in submitted.json()["deliveries"]] == [200], submitted.text
        # Jobs are off: run the inbox pass that announces the leads (their CRM deliveries).
        await apply_stored_webhooks(server)
        listed = await api.get("/api/integrations/leads/", params={"limit": 100})
        assert listed.status_code == 200, listed.text
        seeded.leads = [lead["id"] for lead in listed.json()["items"]]
        assert len(seeded.leads) == leads
        queued = await api.get("/api/integrations/leads/deliveries/", params={"limit": 100})
        assert queued.status_code == 200, queued.text
        seeded.deliveries = [delivery["id"] for delivery in queued.json()["items"]]
        assert len(seeded.deliveries) == leads
        job = await api.post(f"{ACCOUNTS}/{ads_id}/leads/backfill/", json={})
        assert job.status_code == 202, job.text
        seeded.backfills.append((ads_id, job.json()["id"]))
    return seeded


# Real processes --------------------------------------------------------------------------------


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_environment(**env: str) -> dict[str, str]:
    """This process's environment without any setting of the service, plus `env`."""
    prefixes = ("CRM_", "DATABASE_", "APP_ENV", "TIKTOK_", "LEADGEN_", "API_BASE_URL", "PORT")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    environment.update(env)
    return environment


@contextmanager
def process(args: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A child process of this test, stopped (SIGTERM, then SIGKILL) when the block exits."""
    with log.open("ab") as output:
        child = subprocess.Popen(
            [sys.executable, *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield child
    finally:
        stop(child)


def stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)


def wait_until_serving(
    url: str, child: subprocess.Popen[bytes], log: Path, within: float = 30.0
) -> None:
    deadline = time.monotonic() + within
    while True:
        if child.poll() is not None:
            raise AssertionError(f"{url} exited with {child.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {within:.0f}s:\n{log.read_text()}")
        time.sleep(0.1)


def json_of(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()
