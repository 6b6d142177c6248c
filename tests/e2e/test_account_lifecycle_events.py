"""The account lifecycle over real HTTP: every status change writes its audit entry and its
event (the `events` outbox the CRM is told from) together, for each way an account moves.

connect → `account.connected`; disconnect → `account.disconnected` (reason `user`); a
TikTok-side revoke → `account.disconnected` (reason `tiktok_revoked`, TikTok's reason in
words); a token that cannot be decrypted → `account.reauth_required`; delete of a connected
account → `account.disconnected` (reason `deleted`) then `account.deleted`.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import update

from app.accounts.models import IntegrationAccount
from app.core.db import create_engine
from tests.e2e.flow import (
    ACCOUNTS,
    create_account,
    decide,
    follow,
    log_events,
    open_consent,
    read_account,
    stored_rows,
)
from tests.e2e.inbox import apply_stored_webhooks
from tests.live_server import LiveServer


async def _connect(server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient) -> str:
    account_id = await create_account(api, "Brand")
    consent_url, form = await open_consent(server, api, browser, account_id)
    landing = await follow(browser, await decide(browser, consent_url, form, "approve"))
    assert "connected=true" in landing
    return account_id


async def _events(server: LiveServer, account_id: str) -> list[dict[str, Any]]:
    rows = (await stored_rows(server.settings))["events"]
    mine = [row for row in rows if str(row["account_id"]) == account_id]
    return sorted(mine, key=lambda row: row["created_at"])


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [str(event["type"]) for event in events]


async def test_connect_and_disconnect_write_their_events_with_the_audit_entries(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await _connect(live_server, api, browser)
    events = await _events(live_server, account_id)
    assert _types(events) == ["account.connected"]
    (connected,) = events
    assert connected["company_id"] == "acme"
    assert connected["data"]["account_id"] == account_id
    assert connected["data"]["platform"] == "tiktok"
    assert connected["data"]["status"] == "connected"
    assert connected["data"]["external_id"]
    assert "user.info.basic" in connected["data"]["scopes"]

    assert (await api.post(f"{ACCOUNTS}/{account_id}/disconnect/")).status_code == 200
    events = await _events(live_server, account_id)
    assert _types(events) == ["account.connected", "account.disconnected"]
    assert events[-1]["data"]["reason"] == "user"
    assert events[-1]["data"]["status"] == "disconnected"
    assert {"connect.succeeded", "account.disconnected"} <= set(await log_events(api, account_id))

    # Disconnecting again changes nothing a CRM must hear about twice... but it is still a
    # disconnect the user asked for: one more event, same reason.
    assert (await api.post(f"{ACCOUNTS}/{account_id}/disconnect/")).status_code == 200
    assert _types(await _events(live_server, account_id))[-1] == "account.disconnected"


async def test_a_pending_account_disconnected_stays_pending_and_tells_the_crm_nothing(
    live_server: LiveServer, api: httpx.AsyncClient
) -> None:
    account_id = await create_account(api, "Never connected")
    assert (await api.post(f"{ACCOUNTS}/{account_id}/disconnect/")).status_code == 200
    assert (await read_account(api, account_id))["status"] == "pending"
    assert await _events(live_server, account_id) == []


async def test_a_tiktok_side_revoke_is_account_disconnected_with_tiktoks_reason(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await _connect(live_server, api, browser)
    open_id = (await read_account(api, account_id))["external_id"]
    revoke = await browser.post(f"/_tiktok/_control/users/{open_id}/revoke", params={"reason": 1})
    assert revoke.json()["webhook"]["status_code"] == 200
    assert await apply_stored_webhooks(live_server) == 1
    for _ in range(100):
        if (await read_account(api, account_id))["status"] == "disconnected":
            break
        await __import__("asyncio").sleep(0.05)
    events = await _events(live_server, account_id)
    assert _types(events) == ["account.connected", "account.disconnected"]
    assert events[-1]["data"]["reason"] == "tiktok_revoked"
    assert "disconnected" in events[-1]["data"]["tiktok_reason"]
    assert "tiktok.authorization_removed" in await log_events(api, account_id)


async def test_an_unreadable_token_is_account_reauth_required(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await _connect(live_server, api, browser)
    engine = create_engine(live_server.settings)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(IntegrationAccount).values(access_token_ciphertext="v1.deadbeef.AAAA")
            )
    finally:
        await engine.dispose()
    refused = await api.get(f"{ACCOUNTS}/{account_id}/tiktok-profile/", params={"refresh": "true"})
    assert refused.status_code == 409
    events = await _events(live_server, account_id)
    assert _types(events) == ["account.connected", "account.reauth_required"]
    assert events[-1]["data"]["error_code"] == "token_unreadable"
    assert events[-1]["data"]["status"] == "reauth_required"


async def test_deleting_a_connected_account_disconnects_it_then_deletes_it(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await _connect(live_server, api, browser)
    assert (await api.delete(f"{ACCOUNTS}/{account_id}/")).status_code == 204
    events = await _events(live_server, account_id)
    assert _types(events) == ["account.connected", "account.disconnected", "account.deleted"]
    assert events[1]["data"]["reason"] == "deleted"
    assert events[2]["company_id"] == "acme"
