"""Where a connect returns the browser: `return_to` under an allowed frontend origin (never an
open redirect), with the same `connected`/`account_id`/`error` parameters, by redirect or —
in popup mode — by a page that posts the result to its opener at that exact origin."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from cryptography import fernet

from app.core.config import Settings
from app.core.db import utcnow
from app.oauth.returns import POPUP_CSP
from app.oauth.state import OAuthState, StateCodec, cookie_name
from tests.conftest import FAKE_TIKTOK, fake_tiktok_settings
from tests.test_oauth_connect import token_body, user_body

API = "/api/integrations/accounts/"
CALLBACK = "/api/integrations/accounts/oauth/callback/tiktok/"
OAUTH_PATH = "/api/integrations/accounts/oauth/"
CRM = "https://crm.example.com"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return fake_tiktok_settings(
        database_url,
        frontend_origins=CRM,
        frontend_origin_regex=r"https://pr-[0-9]+\.preview\.example\.com",
    )


@pytest.fixture
def tiktok():  # type: ignore[no-untyped-def]
    with respx.mock(base_url=FAKE_TIKTOK, assert_all_called=False) as mock:
        mock.post("/v2/oauth/token/", name="token").respond(json=token_body())
        mock.get("/v2/user/info/", name="user_info").respond(json=user_body())
        yield mock


async def _account(client: httpx.AsyncClient, auth) -> str:  # type: ignore[no-untyped-def]
    created = await client.post(API, json={"platform": "tiktok", "name": "B"}, headers=auth())
    return str(created.json()["id"])


async def _connect(client: httpx.AsyncClient, auth, account_id: str, **body: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    return await client.post(f"{API}{account_id}/connect/", json=body or None, headers=auth())


def _params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# return_to ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "return_to",
    [
        f"{CRM}/settings/integrations?tab=tiktok#top",
        "http://frontend.test/elsewhere",  # FRONTEND_URL's origin
        "https://pr-17.preview.example.com/integrations",
    ],
)
async def test_the_callback_returns_to_return_to_with_the_result(
    client, auth, tiktok, return_to: str
) -> None:
    account_id = await _account(client, auth)
    started = await _connect(client, auth, account_id, return_to=return_to)
    assert started.status_code == 200, started.text
    state = started.json()["state"]
    answer = await client.get(
        CALLBACK, params={"code": "c", "scopes": "user.info.basic", "state": state}
    )
    assert answer.status_code == 302
    location = answer.headers["location"]
    target = urlsplit(return_to)
    assert location.startswith(f"{target.scheme}://{target.netloc}{target.path}?")
    assert urlsplit(location).fragment == target.fragment
    params = _params(location)
    assert params["connected"] == ["true"]
    assert params["account_id"] == [account_id]
    if target.query:
        assert params["tab"] == ["tiktok"]  # the target's own parameters are kept


async def test_a_failure_returns_to_return_to_with_its_error(client, auth, tiktok) -> None:
    account_id = await _account(client, auth)
    started = await _connect(client, auth, account_id, return_to=f"{CRM}/done")
    state = started.json()["state"]
    answer = await client.get(CALLBACK, params={"error": "access_denied", "state": state})
    assert answer.headers["location"].startswith(f"{CRM}/done?")
    assert _params(answer.headers["location"]) == {
        "connected": ["false"],
        "account_id": [account_id],
        "error": ["access_denied"],
    }


async def test_without_return_to_the_default_stays(client, auth, tiktok) -> None:
    account_id = await _account(client, auth)
    state = (await _connect(client, auth, account_id)).json()["state"]
    answer = await client.get(CALLBACK, params={"code": "c", "state": state})
    assert answer.headers["location"].startswith("http://frontend.test/integrations?")


@pytest.mark.parametrize(
    "return_to",
    [
        "https://evil.example/",
        "https://crm.example.com.evil.example/",
        "https://evil.example/?next=https://crm.example.com",
        "https://crm.example.com@evil.example/",
        "https://user:pw@crm.example.com/",
        "http://crm.example.com/",  # another scheme than the allowed origin's
        "https://crm.example.com:444/",
        "https://pr-1.preview.example.com.evil.example/",
        "//evil.example/",
        "/integrations",
        "javascript:alert(1)",
        "https:\\\\evil.example/",
        "https://crm.example.com/\\evil",
        "https://crm.example.com/ white space",
        "https://crm.example.com/" + "x" * 1100,
    ],
)
async def test_a_return_to_outside_the_allowed_origins_is_a_422(
    client, auth, sessionmaker, return_to: str
) -> None:
    account_id = await _account(client, auth)
    started = await _connect(client, auth, account_id, return_to=return_to)
    assert started.status_code == 422, return_to
    assert started.json()["error"]["code"] in ("return_to_not_allowed", "validation_error")
    assert "set-cookie" not in started.headers
    logs = (await client.get(f"{API}{account_id}/logs/", headers=auth())).json()["items"]
    assert "connect.started" not in [entry["event"] for entry in logs]


async def test_an_unknown_mode_is_a_422(client, auth) -> None:
    account_id = await _account(client, auth)
    started = await _connect(client, auth, account_id, mode="tab")
    assert started.status_code == 422


async def test_a_target_no_longer_allowed_falls_back_to_the_default(
    client, auth, tiktok, app
) -> None:
    account_id = await _account(client, auth)
    state = (await _connect(client, auth, account_id, return_to=f"{CRM}/x")).json()["state"]
    # The CRM's origin is removed from the settings before the browser comes back.
    app.state.settings = app.state.settings.model_copy(update={"frontend_origins": []})
    answer = await client.get(CALLBACK, params={"code": "c", "state": state})
    assert answer.headers["location"].startswith("http://frontend.test/integrations?")


async def test_an_unidentified_attempt_goes_to_the_default_whatever_it_asks(client, tiktok) -> None:
    answer = await client.get(CALLBACK, params={"code": "c", "state": "nobody-knows"})
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("http://frontend.test/integrations?")


async def test_an_expired_attempt_still_returns_to_its_signed_target(
    client, auth, tiktok, settings
) -> None:
    account_id = await _account(client, auth)
    state = "expired-state"
    payload = OAuthState(
        state=state,
        verifier="v" * 64,
        account_id=account_id,
        company_id="acme",
        user="u",
        platform="tiktok",
        expires_at=(utcnow() - timedelta(seconds=1)).timestamp(),
        return_to=f"{CRM}/back",
    )
    client.cookies.set(cookie_name(state), StateCodec(settings).sign(payload), path=OAUTH_PATH)
    answer = await client.get(CALLBACK, params={"code": "c", "state": state})
    assert answer.headers["location"].startswith(f"{CRM}/back?")
    assert _params(answer.headers["location"])["error"] == ["state_expired"]


async def test_the_hop_returns_a_broken_link_to_the_default(client) -> None:
    answer = await client.get(f"{OAUTH_PATH}start/tiktok/", params={"ticket": "garbage"})
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("http://frontend.test/integrations?")


# popup mode --------------------------------------------------------------------------------


def _popup_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="connect-result">(.*?)</script>', page)
    assert found is not None, page
    return dict(json.loads(found.group(1)))


async def test_popup_mode_posts_the_result_to_the_opener_at_the_exact_origin(
    client, auth, tiktok
) -> None:
    account_id = await _account(client, auth)
    started = await _connect(client, auth, account_id, return_to=f"{CRM}/popup-done", mode="popup")
    state = started.json()["state"]
    answer = await client.get(
        CALLBACK, params={"code": "c", "scopes": "user.info.basic", "state": state}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    data = _popup_data(answer.text)
    assert data["message"] == {
        "type": "tiktok-integration:connect",
        "connected": True,
        "account_id": account_id,
        "error": None,
    }
    assert data["target_origin"] == CRM  # never "*"
    assert data["fallback_url"].startswith(f"{CRM}/popup-done?")
    assert _params(data["fallback_url"])["connected"] == ["true"]
    assert "window.opener" in answer.text
    assert "postMessage(data.message, data.target_origin)" in answer.text
    assert "window.close()" in answer.text
    # The page runs only its own script, is never cached, and clears the attempt's cookie.
    assert answer.headers["content-security-policy"] == POPUP_CSP
    assert answer.headers["cache-control"] == "no-store"
    assert cookie_name(state) in answer.headers["set-cookie"]
    assert cookie_name(state) not in client.cookies


async def test_popup_mode_without_return_to_targets_the_frontend_origin(
    client, auth, tiktok
) -> None:
    account_id = await _account(client, auth)
    state = (await _connect(client, auth, account_id, mode="popup")).json()["state"]
    answer = await client.get(CALLBACK, params={"error": "access_denied", "state": state})
    data = _popup_data(answer.text)
    assert data["target_origin"] == "http://frontend.test"
    assert data["message"]["connected"] is False
    assert data["message"]["error"] == "access_denied"
    assert data["fallback_url"].startswith("http://frontend.test/integrations?")


async def test_the_popup_page_escapes_what_it_embeds(client, auth, tiktok) -> None:
    account_id = await _account(client, auth)
    tricky = f"{CRM}/x?q=</script><script>alert(1)</script>"
    started = await _connect(client, auth, account_id, return_to=tricky, mode="popup")
    state = started.json()["state"]
    answer = await client.get(CALLBACK, params={"error": "access_denied", "state": state})
    assert "<script>alert(1)" not in answer.text
    assert answer.text.count("<script") == 2  # the data block and the page's own script
    assert _popup_data(answer.text)["fallback_url"].startswith(f"{CRM}/x?")


async def test_popup_mode_through_the_hop_when_login_kit_is_not_configured(
    database_url: str, auth
) -> None:
    """The hop's own failures answer in the attempt's mode too."""
    from app.main import create_app

    settings = fake_tiktok_settings(database_url, frontend_origins=CRM)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            account_id = await _account(http, auth)
            started = await _connect(http, auth, account_id, return_to=f"{CRM}/p", mode="popup")
            application.state.tiktok = None  # Login Kit unavailable when the browser arrives
            hop = await http.get(started.json()["authorization_url"])
    assert hop.status_code == 200
    data = _popup_data(hop.text)
    assert data["message"]["error"] == "tiktok_not_configured"
    assert data["target_origin"] == CRM


async def test_the_ads_callback_returns_the_same_way(client, auth, settings) -> None:
    """TikTok for Business shares the state and the return: here its popup, with the error
    of a deployment that has no TikTok for Business app."""
    account_id = await _account(client, auth)
    state = "ads-state"
    payload = OAuthState(
        state=state,
        verifier=None,
        account_id=account_id,
        company_id="acme",
        user="u",
        platform="tiktok_ads",
        expires_at=(utcnow() + timedelta(minutes=5)).timestamp(),
        return_to=f"{CRM}/ads",
        mode="popup",
    )
    client.cookies.set(cookie_name(state), StateCodec(settings).sign(payload), path=OAUTH_PATH)
    answer = await client.get(
        f"{OAUTH_PATH}callback/tiktok-ads/", params={"auth_code": "c", "state": state}
    )
    assert answer.status_code == 200
    data = _popup_data(answer.text)
    assert data["target_origin"] == CRM
    assert data["message"]["error"] == "tiktok_not_configured"
    assert data["fallback_url"].startswith(f"{CRM}/ads?")


# popup mode: where the message goes without return_to, and without the cookie -------------


async def _popup_connect(  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient, auth, account_id: str, origin: str | None, **body: str
) -> httpx.Response:
    headers = auth() | ({"Origin": origin} if origin is not None else {})
    return await client.post(
        f"{API}{account_id}/connect/", json={"mode": "popup"} | body, headers=headers
    )


@pytest.mark.parametrize("origin", [CRM, "https://pr-3.preview.example.com"])
async def test_popup_mode_without_return_to_posts_to_the_allowed_origin_that_asked(
    client, auth, tiktok, origin: str
) -> None:
    """A frontend on an allowed origin other than FRONTEND_URL's gets the message."""
    account_id = await _account(client, auth)
    started = await _popup_connect(client, auth, account_id, origin)
    assert started.status_code == 200, started.text
    answer = await client.get(
        CALLBACK,
        params={"code": "c", "scopes": "user.info.basic", "state": started.json()["state"]},
    )
    data = _popup_data(answer.text)
    assert data["target_origin"] == origin
    assert data["message"]["connected"] is True
    # With no opener, the popup goes on to the default target.
    assert data["fallback_url"].startswith("http://frontend.test/integrations?")


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://crm.example.com/x"])
async def test_popup_mode_without_return_to_from_an_origin_not_allowed_is_a_422(
    client, auth, origin: str
) -> None:
    account_id = await _account(client, auth)
    refused = await _popup_connect(client, auth, account_id, origin)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "return_to_not_allowed"
    assert "return_to" in refused.json()["error"]["message"]
    # A checked return_to decides instead; redirect mode never looks at the Origin.
    named = await _popup_connect(client, auth, account_id, origin, return_to=f"{CRM}/p")
    redirect = await _popup_connect(client, auth, account_id, origin, mode="redirect")
    assert (named.status_code, redirect.status_code) == (200, 200)


@pytest.mark.parametrize(
    ("origin", "return_to", "posts_to"),
    [
        (None, f"{CRM}/p", CRM),
        ("https://pr-3.preview.example.com", None, "https://pr-3.preview.example.com"),
        (None, None, "http://frontend.test"),
    ],
)
async def test_a_popup_callback_without_its_cookie_still_tells_the_opener(
    client, auth, tiktok, origin: str | None, return_to: str | None, posts_to: str
) -> None:
    """The common cross-site failure: the browser comes back without the state cookie. The
    popup still answers its opener, at the origin checked at connect, never redirecting
    the frontend into the popup."""
    account_id = await _account(client, auth)
    body = {"return_to": return_to} if return_to else {}
    started = await _popup_connect(client, auth, account_id, origin, **body)
    state = started.json()["state"]
    client.cookies.clear()
    answer = await client.get(CALLBACK, params={"code": "c", "state": state})
    assert answer.status_code == 200, answer.headers.get("location")
    data = _popup_data(answer.text)
    assert data["target_origin"] == posts_to
    assert data["message"] == {
        "type": "tiktok-integration:connect",
        "connected": False,
        "account_id": None,
        "error": "invalid_state",
    }
    # Only the origin travels in the state: without the cookie, the fallback is the default.
    assert data["fallback_url"].startswith("http://frontend.test/integrations?")
    assert tiktok["token"].call_count == 0


async def test_a_cookieless_popup_never_posts_to_an_origin_no_longer_allowed(
    client, auth, tiktok, app
) -> None:
    account_id = await _account(client, auth)
    state = (await _popup_connect(client, auth, account_id, CRM)).json()["state"]
    client.cookies.clear()
    app.state.settings = app.state.settings.model_copy(update={"frontend_origins": []})
    answer = await client.get(CALLBACK, params={"error": "access_denied", "state": state})
    assert _popup_data(answer.text)["target_origin"] == "http://frontend.test"


async def test_a_state_whose_return_part_is_not_ours_is_not_trusted(
    client, auth, tiktok, settings
) -> None:
    account_id = await _account(client, auth)
    state = (await _popup_connect(client, auth, account_id, CRM)).json()["state"]
    client.cookies.clear()
    other_key = fake_tiktok_settings(settings.database_url, secret_key="another-secret-0123456789")
    forged = StateCodec(other_key).new_state("popup", "https://evil.example")
    tampered = state[:-2] + ("AA" if not state.endswith("AA") else "BB")
    for unknown in (forged, tampered, state.partition(".")[0] + ".garbage"):
        answer = await client.get(CALLBACK, params={"code": "c", "state": unknown})
        assert answer.status_code == 302, unknown
        assert answer.headers["location"].startswith("http://frontend.test/integrations?")


async def test_a_redirect_mode_state_carries_no_return_and_keeps_redirecting(
    client, auth, tiktok
) -> None:
    account_id = await _account(client, auth)
    started = await _popup_connect(client, auth, account_id, CRM, mode="redirect")
    state = started.json()["state"]
    assert "." not in state
    client.cookies.clear()
    answer = await client.get(CALLBACK, params={"code": "c", "state": state})
    assert answer.status_code == 302
    assert _params(answer.headers["location"])["error"] == ["invalid_state"]


async def test_an_expired_popup_link_still_tells_the_opener(
    client, auth, tiktok, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hop of a link older than the state (a late idempotent replay, a slow user)
    answers in popup mode too, rather than loading the frontend inside the popup; a
    redirect-mode link goes to the default, as before."""
    account_id = await _account(client, auth)
    started = await _popup_connect(client, auth, account_id, CRM)
    redirecting = await _connect(client, auth, account_id, return_to=f"{CRM}/r")
    ticket, redirect_ticket = (
        parse_qs(urlsplit(answer.json()["authorization_url"]).query)["ticket"][0]
        for answer in (started, redirecting)
    )
    later = time.time() + 3600  # the hop arrives an hour late (as the ticket sees it)
    monkeypatch.setattr(fernet, "time", SimpleNamespace(time=lambda: later))
    hop = await client.get(f"{OAUTH_PATH}start/tiktok/", params={"ticket": ticket})
    redirected = await client.get(f"{OAUTH_PATH}start/tiktok/", params={"ticket": redirect_ticket})
    assert redirected.status_code == 302
    assert redirected.headers["location"].startswith("http://frontend.test/integrations?")
    assert hop.status_code == 200, hop.headers.get("location")
    data = _popup_data(hop.text)
    assert data["target_origin"] == CRM
    assert data["message"]["error"] == "invalid_state"
