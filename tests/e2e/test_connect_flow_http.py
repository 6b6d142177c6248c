"""The Login Kit connect flow end to end over real HTTP: connect, hop, consent, callback.

Two clients play the two sides of a real browser session. `api` is the CRM frontend's XHR:
it carries the bearer token and keeps its own cookies, as a cross-origin XHR's cookies
would be lost, so the state cookie can only come from the first-party hop. `browser` is
the browser's navigation: one cookie jar, every redirect walked by hand and checked.
"""

from __future__ import annotations

import asyncio
import copy
import time

import httpx

from tests.conftest import make_settings, make_token
from tests.e2e.flow import (
    ACCOUNTS,
    TIMEOUT,
    TOKEN_PREFIXES,
    create_account,
    decide,
    display_names,
    emulator_stats,
    follow,
    log_events,
    open_consent,
    query,
    read_account,
    state_cookies,
    stored_rows,
    strings_in,
)
from tests.live_server import LiveServer, delete_all_rows, serve


async def test_approve_connects_with_encrypted_tokens_and_disconnect_revokes_at_tiktok(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await create_account(api, "Brand account")
    consent_url, form = await open_consent(live_server, api, browser, account_id)
    assert len(state_cookies(browser)) == 1, "the hop sets the state cookie first-party"
    user = form.users[0]

    callback = await decide(browser, consent_url, form, "approve", user)
    assert callback.startswith(live_server.settings.tiktok_redirect + "?")
    assert query(callback).keys() >= {"code", "scopes", "state"}
    landing = await follow(browser, callback)

    assert landing == f"{live_server.url}/integrations?connected=true&account_id={account_id}"
    assert state_cookies(browser) == [], "the callback clears the state cookie"
    account = await read_account(api, account_id)
    assert account["status"] == "connected"
    assert account["external_id"] == user
    assert account["display_name"] == (await display_names(browser))[user]
    assert {"connect.started", "connect.succeeded"} <= set(await log_events(api, account_id))

    rows = await stored_rows(live_server.settings)
    (stored,) = rows["integration_accounts"]
    assert stored["access_token_ciphertext"]
    assert stored["refresh_token_ciphertext"]
    plaintext = [
        (table, value)
        for table, table_rows in rows.items()
        for row in table_rows
        for value in strings_in(list(row.values()))
        if value.startswith(TOKEN_PREFIXES)
    ]
    assert plaintext == []

    disconnected = await api.post(f"{ACCOUNTS}/{account_id}/disconnect/")
    assert disconnected.status_code == 200, disconnected.text
    assert disconnected.json()["status"] == "disconnected"
    assert (await read_account(api, account_id))["status"] == "disconnected"
    assert (await emulator_stats(browser))["revoke"] == 1


async def test_deny_returns_access_denied_and_the_account_stays_pending(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await create_account(api, "Brand account")
    consent_url, form = await open_consent(live_server, api, browser, account_id)

    callback = await decide(browser, consent_url, form, "deny")
    assert query(callback)["error"] == ["access_denied"]
    landing = await follow(browser, callback)

    assert landing.startswith(f"{live_server.url}/integrations?")
    assert query(landing) == {
        "connected": ["false"],
        "account_id": [account_id],
        "error": ["access_denied"],
    }
    assert (await read_account(api, account_id))["status"] == "pending"
    assert "connect.failed" in await log_events(api, account_id)
    assert (await emulator_stats(browser))["token.authorization_code"] == 0


def _tampered(value: str) -> str:
    """The signed value with one character of its payload (the front third) changed."""
    index = len(value) // 3
    return value[:index] + ("B" if value[index] == "A" else "A") + value[index + 1 :]


async def test_a_tampered_state_cookie_is_refused_as_invalid_state(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await create_account(api, "Brand account")
    consent_url, form = await open_consent(live_server, api, browser, account_id)
    (cookie,) = state_cookies(browser)
    cookie.value = _tampered(cookie.value or "")

    callback = await decide(browser, consent_url, form, "approve")
    landing = await follow(browser, callback)

    assert query(landing) == {"connected": ["false"], "error": ["invalid_state"]}
    assert (await read_account(api, account_id))["status"] == "pending"
    assert (await emulator_stats(browser))["token.authorization_code"] == 0


async def test_a_replayed_callback_is_refused_because_a_state_is_usable_once(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id = await create_account(api, "Brand account")
    consent_url, form = await open_consent(live_server, api, browser, account_id)
    callback = await decide(browser, consent_url, form, "approve")
    (cookie,) = state_cookies(browser)
    saved = copy.copy(cookie)
    first = await follow(browser, callback)
    assert query(first)["connected"] == ["true"]

    # Put the (cleared) cookie back: the replay must be refused by the used-state record,
    # not merely by the missing cookie. The account_id in the answer shows the cookie was
    # verified before the state was found used.
    browser.cookies.jar.set_cookie(saved)
    replay = await follow(browser, callback)

    assert query(replay) == {
        "connected": ["false"],
        "account_id": [account_id],
        "error": ["invalid_state"],
    }
    assert (await emulator_stats(browser))["token.authorization_code"] == 1
    assert (await log_events(api, account_id)).count("connect.succeeded") == 1
    assert (await read_account(api, account_id))["status"] == "connected"


async def test_two_connects_in_flight_in_one_browser_both_complete(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    first_id = await create_account(api, "First brand")
    second_id = await create_account(api, "Second brand")
    first_url, first_form = await open_consent(live_server, api, browser, first_id)
    second_url, second_form = await open_consent(live_server, api, browser, second_id)
    assert len(state_cookies(browser)) == 2, "one state cookie per connect attempt"
    # Two different TikTok users: one user on two accounts of a company is refused.
    first_user, second_user = first_form.users[:2]

    second_callback = await decide(browser, second_url, second_form, "approve", second_user)
    first_callback = await decide(browser, first_url, first_form, "approve", first_user)
    landings = await asyncio.gather(
        follow(browser, first_callback), follow(browser, second_callback)
    )

    assert list(landings) == [
        f"{live_server.url}/integrations?connected=true&account_id={first_id}",
        f"{live_server.url}/integrations?connected=true&account_id={second_id}",
    ]
    assert state_cookies(browser) == []
    first, second = await read_account(api, first_id), await read_account(api, second_id)
    assert (first["status"], first["external_id"]) == ("connected", first_user)
    assert (second["status"], second["external_id"]) == ("connected", second_user)


async def test_a_late_callback_in_a_real_cookie_jar_is_state_expired_not_invalid_state(
    database_url: str,
) -> None:
    # The state is valid for 1 s; the browser keeps its cookie longer, as its Max-Age says,
    # so a user who took too long is told so instead of "invalid state".
    try:
        with serve(
            lambda url: make_settings(
                database_url=database_url,
                api_base_url=url,
                frontend_url=url,
                oauth_state_ttl_seconds=1,
            )
        ) as server:
            headers = {"Authorization": f"Bearer {make_token('acme')}"}
            async with (
                httpx.AsyncClient(base_url=server.url, headers=headers, timeout=TIMEOUT) as api,
                httpx.AsyncClient(base_url=server.url, timeout=TIMEOUT) as browser,
            ):
                account_id = await create_account(api, "Slow user")
                consent_url, form = await open_consent(server, api, browser, account_id)
                (cookie,) = state_cookies(browser)
                assert cookie.expires is not None
                assert cookie.expires - time.time() > 60
                callback = await decide(browser, consent_url, form, "approve")
                await asyncio.sleep(2.1)
                landing = await follow(browser, callback)
                assert query(landing) == {"connected": ["false"], "error": ["state_expired"]}
                assert state_cookies(browser) == []
    finally:
        await delete_all_rows(make_settings(database_url=database_url))
