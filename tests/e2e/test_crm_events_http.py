"""Every event reaches the CRM over real HTTP, signed with each of two secrets (a rotation),
verified with the official Standard Webhooks library as a CRM would.

The service runs under uvicorn with its background jobs (the webhook inbox, the CRM delivery
worker) and the built-in TikTok emulator; a CRM receiver listens on loopback. Accounts are
connected, disconnected by the user and at TikTok, flagged `reauth_required`, deleted, and a
lead arrives: `account.connected`, `account.disconnected` (reasons `user`, `tiktok_revoked`,
`deleted`), `account.reauth_required`, `account.deleted` and `lead.created` are each POSTed
once per event, `webhook-id` = the event's id, every one verifiable with either secret.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from standardwebhooks import Webhook, WebhookVerificationError

from app.accounts.models import IntegrationAccount
from app.core.db import create_engine, create_sessionmaker
from tests.conftest import make_settings, make_token
from tests.crm_receiver import CrmReceiver, serve
from tests.e2e.flow import (
    ACCOUNTS,
    TIMEOUT,
    create_account,
    decide,
    follow,
    open_consent,
    read_account,
    stored_rows,
)
from tests.live_server import LiveServer, delete_all_rows
from tests.live_server import serve as serve_app
from tests.test_leads_webhook import ADVERTISER_ID, connect_advertiser, lead_body, lead_entry

# Rotation: the CRM's old secret (raw bytes) and its new one (whsec_, base64), both active.
OLD_SECRET = "old-crm-secret-0123456789abcdef"
NEW_SECRET = "whsec_" + base64.b64encode(b"new-crm-secret-key-0123456789ab").decode()
LEADGEN_TOKEN = "crm-events-leadgen-token-0123456789"
WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Raw:
    headers: dict[str, str]
    body: bytes


class RawCrm(CrmReceiver):
    """The shared receiver (answers 200, records parsed bodies), keeping each request's raw
    headers and body for the Standard Webhooks library."""

    def __init__(self) -> None:
        super().__init__(secret=NEW_SECRET)
        self.raw: list[Raw] = []
        self.raw_lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        messages = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(message.get("body", b"") for message in messages)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self.raw_lock:
            self.raw.append(Raw(headers, body))
        replay = iter(messages)

        async def received() -> Any:
            return next(replay)

        await super().__call__(scope, received, send)

    def bodies(self) -> list[dict[str, Any]]:
        with self.raw_lock:
            return [json.loads(item.body) for item in self.raw]


@pytest.fixture
def crm() -> Iterator[RawCrm]:
    with serve(RawCrm()) as receiver:
        yield receiver


@pytest.fixture
async def server(database_url: str, crm: RawCrm) -> AsyncIterator[LiveServer]:
    try:
        with serve_app(
            lambda url: make_settings(
                database_url=database_url,
                api_base_url=url,
                frontend_url=url,
                # The inbox and the CRM delivery worker run in the service, as deployed.
                background_jobs_enabled=True,
                crm_delivery_interval_seconds=0.1,
                crm_webhook_url=crm.url,
                crm_webhook_secret=f"{OLD_SECRET},{NEW_SECRET}",
                leadgen_webhook_token=LEADGEN_TOKEN,
            )
        ) as running:
            yield running
    finally:
        await delete_all_rows(make_settings(database_url=database_url))


@pytest.fixture
async def api(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {make_token('acme')}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
async def browser(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as client:
        yield client


async def eventually(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not await condition():
        assert time.monotonic() < deadline, f"not reached within {WAIT_SECONDS}s: {what}"
        await asyncio.sleep(0.05)


async def _connect(server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient) -> str:
    account_id = await create_account(api, "Brand")
    consent_url, form = await open_consent(server, api, browser, account_id)
    landing = await follow(browser, await decide(browser, consent_url, form, "approve"))
    assert "connected=true" in landing
    return account_id


def _received(crm: RawCrm, type: str, **data: Any) -> list[dict[str, Any]]:
    return [
        body
        for body in crm.bodies()
        if body["type"] == type and all(body["data"].get(k) == v for k, v in data.items())
    ]


async def test_every_event_reaches_the_crm_signed_with_both_secrets(
    server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient, crm: RawCrm
) -> None:
    # account.connected, account.disconnected (reason user), then account.deleted.
    first = await _connect(server, api, browser)
    assert (await api.post(f"{ACCOUNTS}/{first}/disconnect/")).status_code == 200
    assert (await api.delete(f"{ACCOUNTS}/{first}/")).status_code == 204

    # account.disconnected at TikTok's side (the emulator revokes and sends its webhook).
    second = await _connect(server, api, browser)
    open_id = (await read_account(api, second))["external_id"]
    revoke = await browser.post(f"/_tiktok/_control/users/{open_id}/revoke", params={"reason": 1})
    assert revoke.json()["webhook"]["status_code"] == 200

    async def revoked() -> bool:  # applied by the service's inbox job
        return bool((await read_account(api, second))["status"] == "disconnected")

    await eventually(revoked, "the TikTok-side revoke applied")

    # account.reauth_required: the stored token cannot be decrypted any more.
    third = await _connect(server, api, browser)
    engine = create_engine(server.settings)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(IntegrationAccount)
                .where(IntegrationAccount.id == uuid.UUID(third))
                .values(access_token_ciphertext="v1.deadbeef.AAAA")
            )
        refused = await api.get(f"{ACCOUNTS}/{third}/tiktok-profile/", params={"refresh": "true"})
        assert refused.status_code == 409
        # Deleting it: account.disconnected (reason deleted), then account.deleted.
        assert (await api.delete(f"{ACCOUNTS}/{third}/")).status_code == 204

        # lead.created: a lead webhook for an advertiser of acme.
        await connect_advertiser(create_sessionmaker(engine), "acme")
    finally:
        await engine.dispose()
    answered = await browser.post(
        "/api/integrations/webhooks/tiktok-leadgen/",
        params={"token": LEADGEN_TOKEN},
        content=lead_body(lead_entry(7126711421177439001)),
        headers={"Content-Type": "application/json"},
    )
    assert answered.status_code == 200, answered.text

    async def all_arrived() -> bool:
        return all(
            [
                _received(crm, "account.connected", account_id=third),
                _received(crm, "account.disconnected", account_id=first, reason="user"),
                _received(crm, "account.deleted", account_id=first),
                _received(crm, "account.disconnected", account_id=second, reason="tiktok_revoked"),
                _received(crm, "account.reauth_required", account_id=third),
                _received(crm, "account.disconnected", account_id=third, reason="deleted"),
                _received(crm, "account.deleted", account_id=third),
                _received(crm, "lead.created"),
            ]
        )

    await eventually(all_arrived, "every event at the CRM")

    # Every request verifies with the official library under either secret, and carries one
    # `v1,` signature per configured secret; a stranger's secret verifies none.
    with crm.raw_lock:
        requests = list(crm.raw)
    old, new = Webhook(OLD_SECRET.encode()), Webhook(NEW_SECRET)
    stranger = Webhook("whsec_" + base64.b64encode(b"someone-else-entirely-0123456789").decode())
    for request in requests:
        signatures = request.headers["webhook-signature"].split(" ")
        assert len(signatures) == 2
        assert all(s.startswith("v1,") for s in signatures)
        assert old.verify(request.body, request.headers) == json.loads(request.body)
        assert new.verify(request.body, request.headers) == json.loads(request.body)
        with pytest.raises(WebhookVerificationError):
            stranger.verify(request.body, request.headers)

    # One webhook-id per event: the event's own id, for every event of the company.
    rows = (await stored_rows(server.settings))["events"]
    events = {str(row["id"]): row for row in rows}
    by_id: dict[str, dict[str, Any]] = {}
    for request in requests:
        by_id.setdefault(request.headers["webhook-id"], json.loads(request.body))
    assert set(by_id) == set(events)
    for webhook_id, body in by_id.items():
        event = events[webhook_id]
        assert body["type"] == str(event["type"])
        assert body["data"] == event["data"]
        assert set(body) == {"type", "timestamp", "data"}
        assert body["timestamp"].endswith("Z")

    # Each reason arrives in its words; the TikTok-side one with TikTok's reason.
    (revoked,) = _received(crm, "account.disconnected", account_id=second)
    assert revoked["data"]["tiktok_reason"]
    (user,) = _received(crm, "account.disconnected", account_id=first)
    assert user["data"]["reason"] == "user"
    assert "tiktok_reason" not in user["data"]
    (reauth,) = _received(crm, "account.reauth_required", account_id=third)
    assert reauth["data"]["error_code"] == "token_unreadable"

    # lead.created's data is the lead as the API reads it (without `raw`).
    (lead,) = _received(crm, "lead.created")
    read = (await api.get(f"/api/integrations/leads/{lead['data']['id']}/")).json()
    read.pop("raw")
    assert lead["data"] == read
    assert lead["data"]["attribution"]["advertiser_id"] == ADVERTISER_ID

    # The deliveries are listed by the events API, all delivered (each outcome is recorded
    # just after the CRM's answer).
    async def listed_delivered() -> bool:
        listed = await api.get("/api/integrations/events/deliveries/", params={"limit": 200})
        assert listed.status_code == 200
        statuses = {item["id"]: item["status"] for item in listed.json()["items"]}
        assert set(statuses) == set(events)
        return set(statuses.values()) == {"delivered"}

    await eventually(listed_delivered, "every delivery recorded as delivered")
