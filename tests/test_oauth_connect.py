"""Connecting a TikTok account: connect, hop, callback (TikTok faked with respx).

The callback always ends in a redirect to the frontend, with `connected=true`, or
`connected=false&error=CODE` and nothing stored.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from sqlalchemy import select, text

from app.accounts.models import IntegrationAccount
from app.audit.models import IntegrationLog
from app.core.config import Settings
from app.core.db import utcnow
from app.main import create_app
from app.oauth.state import OAuthState, StateCodec, cookie_name
from tests.conftest import FAKE_TIKTOK, fake_tiktok_settings, make_settings
from tests.test_settings import SAFE_PRODUCTION

TIKTOK = FAKE_TIKTOK
API = "/api/integrations/accounts/"
CALLBACK = "/api/integrations/accounts/oauth/callback/tiktok/"
OPEN_ID = "open-id-ada"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return fake_tiktok_settings(database_url)


@pytest.fixture
def tiktok():
    with respx.mock(base_url=TIKTOK, assert_all_called=False) as mock:
        mock.post("/v2/oauth/token/", name="token").respond(json=token_body())
        mock.get("/v2/user/info/", name="user_info").respond(json=user_body())
        mock.post("/v2/oauth/revoke/", name="revoke").respond(json={})
        yield mock


def token_body(open_id: str = OPEN_ID, scope: str = "user.info.basic,user.info.profile") -> dict:
    return {
        "access_token": "act.NEW-ACCESS",
        "expires_in": 7200,
        "open_id": open_id,
        "refresh_expires_in": 15552000,
        "refresh_token": "rft.NEW-REFRESH",
        "scope": scope,
        "token_type": "Bearer",
    }


def user_body(open_id: str = OPEN_ID) -> dict:
    user = {
        "open_id": open_id,
        "display_name": "Ada",
        "username": "ada",
        "avatar_url": "https://a/x.png",
    }
    return {"data": {"user": user}, "error": {"code": "ok", "message": "", "log_id": "L-user"}}


async def _account(
    client: httpx.AsyncClient, auth, platform: str = "tiktok", company: str = "acme"
) -> str:
    response = await client.post(
        API, json={"platform": platform, "name": "Brand"}, headers=auth(company)
    )
    assert response.status_code == 201
    return response.json()["id"]


async def _connect(client: httpx.AsyncClient, auth, account_id: str) -> str:
    response = await client.post(f"{API}{account_id}/connect/", headers=auth())
    assert response.status_code == 200, response.text
    return response.json()["state"]


async def _callback(client: httpx.AsyncClient, **params: str) -> dict[str, list[str]]:
    response = await client.get(CALLBACK, params=params)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("http://frontend.test/integrations?"), location
    return parse_qs(urlsplit(location).query)


async def _row(sessionmaker, account_id: str) -> IntegrationAccount:
    async with sessionmaker() as session:
        row = await session.get(IntegrationAccount, uuid.UUID(account_id))
        assert row is not None
        return row


async def _events(sessionmaker, account_id: str) -> list[IntegrationLog]:
    async with sessionmaker() as session:
        query = select(IntegrationLog).where(IntegrationLog.account_id == uuid.UUID(account_id))
        return list((await session.scalars(query.order_by(IntegrationLog.created_at))).all())


async def test_approved_connect_stores_encrypted_tokens_and_redirects_connected(
    client, auth, tiktok, sessionmaker, settings
) -> None:
    account_id = await _account(client, auth)
    state = await _connect(client, auth, account_id)
    verifier = (
        StateCodec(settings).verify(client.cookies[cookie_name(state)], state, utcnow()).verifier
    )

    query = await _callback(
        client, code="the-code", scopes="user.info.basic,user.info.profile", state=state
    )

    assert query == {"connected": ["true"], "account_id": [account_id]}
    sent = parse_qs(tiktok["token"].calls.last.request.content.decode())
    assert sent["code"] == ["the-code"]
    assert sent["code_verifier"] == [verifier]
    assert sent["redirect_uri"] == [settings.tiktok_redirect]
    assert sent["grant_type"] == ["authorization_code"]
    fields = tiktok["user_info"].calls.last.request.url.params["fields"].split(",")
    assert "follower_count" not in fields
    assert "username" in fields

    row = await _row(sessionmaker, account_id)
    assert row.status == "connected"
    assert row.external_id == OPEN_ID
    assert row.display_name == "Ada"
    assert row.scopes == ["user.info.basic", "user.info.profile"]
    assert row.access_token_expires_at is not None
    assert row.access_token_expires_at - utcnow() > timedelta(seconds=7000)
    assert "NEW-ACCESS" not in (row.access_token_ciphertext or "")
    assert [e.event for e in await _events(sessionmaker, account_id)][-1] == "connect.succeeded"
    assert cookie_name(state) not in client.cookies


async def test_database_never_holds_a_token_in_plain_text(client, auth, tiktok, app) -> None:
    account_id = await _account(client, auth)
    state = await _connect(client, auth, account_id)
    await _callback(client, code="c", scopes="user.info.basic", state=state)
    async with app.state.engine.connect() as connection:
        for table in ("integration_accounts", "integration_logs"):
            rows = (await connection.execute(text(f"SELECT * FROM {table}"))).all()  # noqa: S608
            dump = json.dumps([list(map(str, row)) for row in rows])
            assert "NEW-ACCESS" not in dump, table
            assert "NEW-REFRESH" not in dump, table


async def test_hop_sets_the_cookie_and_sends_a_hex_pkce_challenge(client, auth, settings) -> None:
    account_id = await _account(client, auth)
    started = await client.post(f"{API}{account_id}/connect/", headers=auth())
    body = started.json()
    client.cookies.clear()  # a cross-origin XHR's cookie may be dropped by the browser
    hop = await client.get(body["authorization_url"])
    assert hop.status_code == 302
    target = urlsplit(hop.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{TIKTOK}/v2/auth/authorize/"
    params = {k: v[0] for k, v in parse_qs(target.query).items()}
    cookie = client.cookies[cookie_name(body["state"])]
    verifier = StateCodec(settings).verify(cookie, body["state"], utcnow()).verifier
    assert verifier is not None
    assert 43 <= len(verifier) <= 128
    assert params["code_challenge"] == hashlib.sha256(verifier.encode()).hexdigest()
    assert params["code_challenge_method"] == "S256"
    assert params["state"] == body["state"]
    assert params["client_key"] == "ck"
    assert params["response_type"] == "code"
    assert params["redirect_uri"] == settings.tiktok_redirect
    assert params["scope"] == settings.tiktok_scopes
    set_cookie = hop.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "samesite=lax" in set_cookie
    assert "path=/api/integrations/accounts/oauth/" in set_cookie
    assert verifier not in body["authorization_url"]


async def test_pkce_off_sends_no_challenge_and_no_verifier(database_url, tiktok, auth) -> None:
    from app.main import create_app

    app = create_app(fake_tiktok_settings(database_url, tiktok_pkce="off"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            account_id = await _account(client, auth)
            body = (await client.post(f"{API}{account_id}/connect/", headers=auth())).json()
            hop = await client.get(body["authorization_url"])
            assert "code_challenge" not in hop.headers["location"]
            query = await _callback(client, code="c", scopes="user.info.basic", state=body["state"])
            assert query["connected"] == ["true"]
            sent = parse_qs(tiktok["token"].calls.last.request.content.decode())
            assert "code_verifier" not in sent
            await client.delete(f"{API}{account_id}/", headers=auth())


async def test_user_denial_redirects_with_access_denied_and_stores_nothing(
    client, auth, tiktok, sessionmaker
) -> None:
    account_id = await _account(client, auth)
    state = await _connect(client, auth, account_id)
    query = await _callback(
        client, error="access_denied", error_description="User cancelled", state=state
    )
    assert query == {"connected": ["false"], "account_id": [account_id], "error": ["access_denied"]}
    assert not tiktok["token"].called
    row = await _row(sessionmaker, account_id)
    assert row.status == "pending"
    assert row.access_token_ciphertext is None
    failed = (await _events(sessionmaker, account_id))[-1]
    assert failed.event == "connect.failed"
    assert failed.data["error"] == "access_denied"


async def test_unknown_tiktok_errors_become_a_generic_code(client, auth, tiktok) -> None:
    account_id = await _account(client, auth)
    state = await _connect(client, auth, account_id)
    query = await _callback(client, error="<script>", state=state)
    assert query["error"] == ["tiktok_error"]


async def test_missing_cookie_is_invalid_state(client, auth, tiktok) -> None:
    account_id = await _account(client, auth)
    state = await _connect(client, auth, account_id)
    client.cookies.clear()
    query = await _callback(client, code="c", state=state)
    assert query == {"connected": ["false"], "error": ["invalid_state"]}
    assert not tiktok["token"].called


async def test_missing_state_is_invalid_state(client, tiktok) -> None:
    assert (await _callback(client, code="c"))["error"] == ["invalid_state"]


async def test_tampered_cookie_is_invalid_state(client, auth, tiktok) -> None:
    account_id = await _account(client, auth)
    state = await _connect(client, auth, account_id)
    name = cookie_name(state)
    value = client.cookies[name]
    client.cookies.set(
        name,
        value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"),
        path="/api/integrations/accounts/oauth/",
    )
    query = await _callback(client, code="c", state=state)
    assert query["error"] == ["invalid_state"]
    assert not tiktok["token"].called


async def test_cookie_for_another_state_is_invalid_state(client, auth, tiktok, settings) -> None:
    account_id = await _account(client, auth)
    first = await _connect(client, auth, account_id)
    forged_state = "forged-state-value"
    client.cookies.set(
        cookie_name(forged_state),
        client.cookies[cookie_name(first)],
        path="/api/integrations/accounts/oauth/",
    )
    query = await _callback(client, code="c", state=forged_state)
    assert query["error"] == ["invalid_state"]


async def test_expired_state_is_state_expired(client, auth, tiktok, settings) -> None:
    account_id = await _account(client, auth)
    codec = StateCodec(settings)
    state = "expired-state"
    payload = OAuthState(
        state=state,
        verifier="v" * 64,
        account_id=account_id,
        company_id="acme",
        user="u",
        platform="tiktok",
        expires_at=(utcnow() - timedelta(seconds=1)).timestamp(),
    )
    client.cookies.set(
        cookie_name(state), codec.sign(payload), path="/api/integrations/accounts/oauth/"
    )
    query = await _callback(client, code="c", state=state)
    assert query == {"connected": ["false"], "error": ["state_expired"]}
    assert not tiktok["token"].called


async def test_a_state_is_usable_once(client, auth, tiktok) -> None:
    account_id = await _account(client, auth)
    state = await _connect(client, auth, account_id)
    cookie = client.cookies[cookie_name(state)]
    assert (await _callback(client, code="c", state=state))["connected"] == ["true"]
    client.cookies.set(cookie_name(state), cookie, path="/api/integrations/accounts/oauth/")
    replay = await _callback(client, code="c", state=state)
    assert replay["error"] == ["invalid_state"]
    assert tiktok["token"].call_count == 1


async def test_concurrent_connects_do_not_clobber_each_other(client, auth, tiktok) -> None:
    first, second = await _account(client, auth), await _account(client, auth)
    state_one = await _connect(client, auth, first)
    tiktok["token"].respond(json=token_body(open_id="user-two"))
    tiktok["user_info"].respond(json=user_body("user-two"))
    state_two = await _connect(client, auth, second)
    assert (await _callback(client, code="c2", state=state_two))["account_id"] == [second]
    tiktok["token"].respond(json=token_body(open_id="user-one"))
    tiktok["user_info"].respond(json=user_body("user-one"))
    assert (await _callback(client, code="c1", state=state_one))["account_id"] == [first]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(
            200, json={"error": "invalid_grant", "error_description": "bad", "log_id": "L9"}
        ),
        httpx.Response(400, json={"error": "invalid_request", "log_id": "L9"}),
        httpx.Response(500, text="<html>oops</html>"),
        httpx.Response(200, text="not json"),
    ],
    ids=["200-invalid-grant", "400", "500", "garbage"],
)
async def test_failed_code_exchange_is_token_exchange_failed(
    client, auth, tiktok, sessionmaker, response
) -> None:
    tiktok["token"].mock(return_value=response)
    account_id = await _account(client, auth)
    state = await _connect(client, auth, account_id)
    query = await _callback(client, code="c", state=state)
    assert query == {
        "connected": ["false"],
        "account_id": [account_id],
        "error": ["token_exchange_failed"],
    }
    assert (await _row(sessionmaker, account_id)).status == "pending"
    failed = (await _events(sessionmaker, account_id))[-1]
    assert failed.event == "connect.failed"
    if response.status_code != 500 and response.headers.get("content-type") == "application/json":
        assert failed.data["log_id"] == "L9"


async def test_reconnect_as_another_tiktok_user_is_account_mismatch(
    client, auth, tiktok, sessionmaker
) -> None:
    account_id = await _account(client, auth)
    await _callback(client, code="c", state=await _connect(client, auth, account_id))
    before = await _row(sessionmaker, account_id)
    tiktok["token"].respond(json=token_body(open_id="somebody-else"))
    query = await _callback(client, code="c", state=await _connect(client, auth, account_id))
    assert query["error"] == ["account_mismatch"]
    after = await _row(sessionmaker, account_id)
    assert after.external_id == OPEN_ID
    assert after.access_token_ciphertext == before.access_token_ciphertext


async def test_a_tiktok_user_linked_to_another_account_is_already_connected(
    client, auth, tiktok, sessionmaker
) -> None:
    first = await _account(client, auth)
    await _callback(client, code="c", state=await _connect(client, auth, first))
    second = await _account(client, auth)
    query = await _callback(client, code="c", state=await _connect(client, auth, second))
    assert query == {"connected": ["false"], "account_id": [second], "error": ["already_connected"]}
    assert (await _row(sessionmaker, second)).status == "pending"
    # Another company may link the same TikTok user.
    other = await _account(client, auth, company="other")
    state = (await client.post(f"{API}{other}/connect/", headers=auth("other"))).json()["state"]
    assert (await _callback(client, code="c", state=state))["connected"] == ["true"]


async def test_profile_failure_still_connects_and_is_logged(
    client, auth, tiktok, sessionmaker
) -> None:
    tiktok["user_info"].respond(status_code=503)
    account_id = await _account(client, auth)
    query = await _callback(client, code="c", state=await _connect(client, auth, account_id))
    assert query["connected"] == ["true"]
    events = [e.event for e in await _events(sessionmaker, account_id)]
    assert "profile.fetch_failed" in events
    assert events[-1] == "connect.succeeded"


async def test_connect_of_an_ads_account_needs_tiktok_for_business_and_others_are_404(
    client, auth, tiktok
) -> None:
    ads = await _account(client, auth, platform="tiktok_ads")
    refused = await client.post(f"{API}{ads}/connect/", headers=auth())
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "tiktok_not_configured"
    assert "TIKTOK_BUSINESS_APP_ID" in refused.json()["error"]["message"]
    mine = await _account(client, auth)
    theirs = await client.post(f"{API}{mine}/connect/", headers=auth("other"))
    assert theirs.status_code == 404


async def test_hop_with_a_bad_ticket_redirects_to_the_frontend(client) -> None:
    for ticket in ("", "garbage", "gAAAAAB" + "x" * 40):
        response = await client.get(
            "/api/integrations/accounts/oauth/start/tiktok/", params={"ticket": ticket}
        )
        assert response.status_code == 302
        assert response.headers["location"].endswith("connected=false&error=invalid_state")


async def test_disconnect_revokes_wipes_and_logs(client, auth, tiktok, sessionmaker) -> None:
    account_id = await _account(client, auth)
    await _callback(client, code="c", state=await _connect(client, auth, account_id))
    response = await client.post(f"{API}{account_id}/disconnect/", headers=auth())
    assert response.status_code == 200
    assert response.json()["status"] == "disconnected"
    revoke = parse_qs(tiktok["revoke"].calls.last.request.content.decode())
    assert revoke["token"] == ["act.NEW-ACCESS"]
    row = await _row(sessionmaker, account_id)
    assert row.access_token_ciphertext is None
    assert row.refresh_token_ciphertext is None
    last = (await _events(sessionmaker, account_id))[-1]
    assert last.event == "account.disconnected"
    assert last.data["revoked"] is True


async def test_revoke_failure_is_logged_and_does_not_block_the_wipe(
    client, auth, tiktok, sessionmaker
) -> None:
    account_id = await _account(client, auth)
    await _callback(client, code="c", state=await _connect(client, auth, account_id))
    tiktok["revoke"].respond(status_code=500)
    response = await client.post(f"{API}{account_id}/disconnect/", headers=auth())
    assert response.json()["status"] == "disconnected"
    row = await _row(sessionmaker, account_id)
    assert row.refresh_token_ciphertext is None
    last = (await _events(sessionmaker, account_id))[-1]
    assert last.level == "warning"
    assert last.data["revoked"] is False
    assert last.data["error"] == "tiktok_unavailable"


async def test_delete_revokes_first(client, auth, tiktok, sessionmaker) -> None:
    account_id = await _account(client, auth)
    await _callback(client, code="c", state=await _connect(client, auth, account_id))
    assert (await client.delete(f"{API}{account_id}/", headers=auth())).status_code == 204
    assert tiktok["revoke"].call_count == 1
    async with sessionmaker() as session:
        entry = (
            await session.scalars(
                select(IntegrationLog).where(IntegrationLog.event == "account.deleted")
            )
        ).one()
    assert entry.data["revoked"] is True
    assert entry.account_id is None


async def test_the_callback_redirects_to_the_frontend_when_login_kit_is_not_configured(
    database_url: str,
) -> None:
    # Production with no TIKTOK_CLIENT_ID: no emulator, no Login Kit. A browser that lands
    # on the callback (an old tab, a misrouted redirect) still ends on the frontend.
    settings = make_settings(**SAFE_PRODUCTION, database_url=database_url)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            response = await http.get(
                "/api/integrations/accounts/oauth/callback/tiktok/",
                params={"code": "c", "state": "s"},
            )
    assert response.status_code == 302
    assert response.headers["location"] == (
        "http://frontend.test/integrations?connected=false&error=tiktok_not_configured"
    )
