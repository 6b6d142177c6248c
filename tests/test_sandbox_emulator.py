"""The TikTok emulator speaks TikTok's wire formats and reproduces its quirks (TIKTOK_API.md)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from fastapi import FastAPI

from tiktok_emulator import EmulatorConfig, EmulatorState, create_emulator, sign_webhook

BASE = "http://emulator.test"
REDIRECT = "https://crm.example/oauth/tiktok/callback"
KEY = "sandbox-client-key"
SECRET = "sandbox-client-secret"
ALL_SCOPES = "user.info.basic,user.info.profile,user.info.stats,video.list"
VERIFIER = "v" * 20 + "-._~" + "0123456789abcdefghijKLMNOP"
HEX_CHALLENGE = hashlib.sha256(VERIFIER.encode()).hexdigest()
B64_CHALLENGE = (
    base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
)
ADA = "-000a1b2c3d4e5f60718293a4b5c6d7e8f9"
BAO = "-000b2c3d4e5f60718293a4b5c6d7e8f9a0"
VIDEO_FIELDS = "id,create_time,cover_image_url,title"
WEBHOOK_URL = "https://crm.example/webhooks/tiktok"


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class _FormReader(HTMLParser):
    """The consent page's form: action, hidden fields, scope checkboxes, user radios."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}
        self.scopes: list[tuple[str, bool]] = []
        self.users: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if "id" in attr:
            self.ids.add(attr["id"] or "")
        if tag == "form":
            self.action = attr["action"] or ""
        if tag != "input":
            return
        if attr.get("type") == "hidden":
            self.hidden[attr["name"] or ""] = attr.get("value") or ""
        elif attr.get("name") == "scope":
            self.scopes.append((attr["value"] or "", "disabled" in attr))
        elif attr.get("name") == "user":
            self.users.append(attr["value"] or "")


def read_form(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    return reader


def authorize_params(**overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "client_key": KEY,
        "scope": ALL_SCOPES,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": "st-123",
        "code_challenge": HEX_CHALLENGE,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {name: values[0] for name, values in parse_qs(location.query).items()}


async def decide(
    http: httpx.AsyncClient,
    decision: str = "approve",
    *,
    user: str = ADA,
    scopes: list[str] | None = None,
    **overrides: str | None,
) -> httpx.Response:
    """Open the consent page, then submit its form as a browser would."""
    page = await http.get("/v2/auth/authorize/", params=authorize_params(**overrides))
    assert page.status_code == 200, page.text
    form = read_form(page.text)
    ticked = scopes if scopes is not None else [v for v, disabled in form.scopes if not disabled]
    data = {**form.hidden, "decision": decision, "user": user, "scope": ticked}
    return await http.post(form.action, data=data)


async def code_for(http: httpx.AsyncClient, **kwargs: Any) -> str:
    return query(await decide(http, **kwargs))["code"]


async def exchange(http: httpx.AsyncClient, code: str, **overrides: str | None) -> dict[str, Any]:
    data: dict[str, str | None] = {
        "client_key": KEY,
        "client_secret": SECRET,
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
        "code_verifier": VERIFIER,
    }
    data.update(overrides)
    response = await http.post(
        "/v2/oauth/token/", data={k: v for k, v in data.items() if v is not None}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def login(http: httpx.AsyncClient, **kwargs: Any) -> dict[str, Any]:
    tokens = await exchange(http, await code_for(http, **kwargs))
    assert "access_token" in tokens, tokens
    return tokens


async def refresh(http: httpx.AsyncClient, refresh_token: str) -> dict[str, Any]:
    data = {
        "client_key": KEY,
        "client_secret": SECRET,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
    response = await http.post("/v2/oauth/token/", data=data)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def list_videos(
    http: httpx.AsyncClient, tokens: dict[str, Any], **body: Any
) -> httpx.Response:
    return await http.post(
        "/v2/video/list/", params={"fields": VIDEO_FIELDS}, json=body, headers=bearer(tokens)
    )


async def add_fault(http: httpx.AsyncClient, **spec: Any) -> None:
    response = await http.post("/_control/faults", json=spec)
    assert response.status_code == 201, response.text


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> FastAPI:
    app = create_emulator(EmulatorConfig(redirect_uris=[REDIRECT]))
    state: EmulatorState = app.state.emulator
    state.clock = clock
    return app


@pytest.fixture
async def http(emulator: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(emulator) as client:
        yield client


# Authorize -----------------------------------------------------------------------------------


async def test_consent_page_lists_scopes_users_and_both_buttons(http: httpx.AsyncClient) -> None:
    page = await http.get("/v2/auth/authorize/", params=authorize_params())
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert f"<title>Sandbox TikTok — authorize {KEY}</title>" in page.text
    form = read_form(page.text)
    assert form.action == "/v2/auth/authorize/"
    assert {"approve", "deny"} <= form.ids
    assert [value for value, _ in form.scopes] == ALL_SCOPES.split(",")
    assert dict(form.scopes)["user.info.basic"] is True  # locked: always granted
    assert len(set(form.users)) >= 3
    assert form.hidden["state"] == "st-123"
    assert form.hidden["code_challenge"] == HEX_CHALLENGE
    assert "<script" not in page.text
    assert "<link" not in page.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_key": "someone-else"},
        {"client_key": None},
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": f"{REDIRECT}?next=/"},
        {"redirect_uri": None},
        {"response_type": "token"},
        {"scope": "user.info.basic,user.info.everything"},
        {"scope": "video.list"},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
    ],
    ids=[
        "unknown-client",
        "no-client",
        "unregistered-redirect",
        "redirect-with-query",
        "no-redirect",
        "implicit-flow",
        "unknown-scope",
        "no-basic-scope",
        "plain-pkce",
        "challenge-without-method",
    ],
)
async def test_invalid_authorize_requests_get_an_error_page_and_no_redirect(
    http: httpx.AsyncClient, overrides: dict[str, str | None]
) -> None:
    page = await http.get("/v2/auth/authorize/", params=authorize_params(**overrides))
    assert page.status_code == 400
    assert "text/html" in page.headers["content-type"]
    assert "location" not in page.headers
    assert "not valid" in page.text


@pytest.mark.parametrize(
    ("uri", "accepted"),
    [
        ("https://any.example/cb", True),
        ("http://localhost:3000/cb", True),
        ("http://127.0.0.1/cb", True),
        ("http://crm.example/cb", False),
        ("https://any.example/cb#frag", False),
        ("ftp://any.example/cb", False),
        ("https://any.example/" + "x" * 512, False),
    ],
)
async def test_without_an_allow_list_any_https_or_local_redirect_uri_is_accepted(
    uri: str, accepted: bool
) -> None:
    async with client_for(create_emulator()) as http:
        page = await http.get("/v2/auth/authorize/", params=authorize_params(redirect_uri=uri))
    assert page.status_code == (200 if accepted else 400)


async def test_a_registered_redirect_uri_may_be_plain_http_on_any_host() -> None:
    config = EmulatorConfig(redirect_uris=["http://api:8000/callback"])
    async with client_for(create_emulator(config)) as http:
        registered = await http.get(
            "/v2/auth/authorize/", params=authorize_params(redirect_uri="http://api:8000/callback")
        )
    assert registered.status_code == 200


async def test_approve_redirects_with_code_granted_scopes_and_state(
    http: httpx.AsyncClient,
) -> None:
    params = query(await decide(http))
    assert params["code"]
    assert params["scopes"] == ALL_SCOPES
    assert params["state"] == "st-123"


async def test_unticked_scopes_are_not_granted_but_basic_always_is(
    http: httpx.AsyncClient,
) -> None:
    params = query(await decide(http, scopes=["video.list"]))
    assert params["scopes"] == "user.info.basic,video.list"
    tokens = await exchange(http, params["code"])
    assert tokens["scope"] == "user.info.basic,video.list"


async def test_a_tampered_form_cannot_grant_unrequested_scopes(http: httpx.AsyncClient) -> None:
    response = await decide(http, scope="user.info.basic", scopes=["video.list"])
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_deny_redirects_with_access_denied_and_state(http: httpx.AsyncClient) -> None:
    params = query(await decide(http, "deny"))
    assert params["error"] == "access_denied"
    assert params["error_description"]
    assert params["state"] == "st-123"
    assert "code" not in params


# Token ---------------------------------------------------------------------------------------


async def test_code_exchange_returns_tiktoks_flat_token_body(http: httpx.AsyncClient) -> None:
    tokens = await login(http, user=BAO)
    assert set(tokens) == {
        "access_token",
        "expires_in",
        "open_id",
        "refresh_expires_in",
        "refresh_token",
        "scope",
        "token_type",
    }
    assert tokens["access_token"].startswith("act.")
    assert tokens["refresh_token"].startswith("rft.")
    assert tokens["open_id"] == BAO
    assert tokens["expires_in"] == 86400
    assert tokens["refresh_expires_in"] == 31536000
    assert tokens["token_type"] == "Bearer"


async def test_token_lifetimes_come_from_the_config() -> None:
    config = EmulatorConfig(access_token_ttl=7200, refresh_token_ttl=15552000)
    async with client_for(create_emulator(config)) as http:
        tokens = await login(http)
    assert (tokens["expires_in"], tokens["refresh_expires_in"]) == (7200, 15552000)


async def test_token_errors_come_with_http_200_and_a_log_id(http: httpx.AsyncClient) -> None:
    body = await exchange(http, "no-such-code")
    assert body["error"] == "invalid_grant"
    assert body["error_description"]
    assert body["log_id"]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"client_key": None}, "invalid_client"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": None}, "invalid_request"),
        ({"redirect_uri": "https://crm.example/other"}, "invalid_grant"),
        ({"redirect_uri": None}, "invalid_request"),
    ],
    ids=["bad-secret", "no-client", "bad-grant", "no-grant", "redirect-mismatch", "no-redirect"],
)
async def test_code_exchange_errors(
    http: httpx.AsyncClient, overrides: dict[str, str | None], error: str
) -> None:
    body = await exchange(http, await code_for(http), **overrides)
    assert body["error"] == error


async def test_codes_are_single_use_and_a_replay_revokes_the_first_tokens(
    http: httpx.AsyncClient,
) -> None:
    code = await code_for(http)
    first = await exchange(http, code)
    assert "access_token" in first
    replay = await exchange(http, code)
    assert replay["error"] == "invalid_grant"
    info = await http.get("/v2/user/info/", params={"fields": "open_id"}, headers=bearer(first))
    assert info.status_code == 401


async def test_codes_expire_after_ten_minutes(http: httpx.AsyncClient, clock: FakeClock) -> None:
    code = await code_for(http)
    clock.now += 601
    assert (await exchange(http, code))["error"] == "invalid_grant"


async def test_hex_pkce_verifies_and_a_wrong_verifier_fails(http: httpx.AsyncClient) -> None:
    code = await code_for(http)
    wrong = await exchange(http, code, code_verifier="w" * 43)
    assert wrong["error"] == "invalid_grant"
    missing = await exchange(http, code, code_verifier=None)
    assert missing["error"] == "invalid_request"
    assert "access_token" in await exchange(http, code)


async def test_base64url_pkce_verifies_when_encoding_is_any(http: httpx.AsyncClient) -> None:
    code = await code_for(http, code_challenge=B64_CHALLENGE)
    assert "access_token" in await exchange(http, code)


async def test_base64url_pkce_is_refused_when_encoding_is_hex() -> None:
    async with client_for(create_emulator(EmulatorConfig(pkce_encoding="hex"))) as http:
        b64 = await exchange(http, await code_for(http, code_challenge=B64_CHALLENGE))
        hexed = await exchange(http, await code_for(http))
    assert b64["error"] == "invalid_grant"
    assert "access_token" in hexed


async def test_without_a_challenge_no_verifier_is_needed(http: httpx.AsyncClient) -> None:
    code = await code_for(http, code_challenge=None, code_challenge_method=None)
    assert "access_token" in await exchange(http, code, code_verifier=None)


async def test_refresh_rotation_kills_the_old_refresh_token(http: httpx.AsyncClient) -> None:
    first = await login(http)
    second = await refresh(http, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]
    assert second["open_id"] == first["open_id"]
    assert (await refresh(http, first["refresh_token"]))["error"] == "invalid_grant"
    assert "access_token" in await refresh(http, second["refresh_token"])


async def test_the_old_access_token_keeps_working_after_a_refresh(
    http: httpx.AsyncClient,
) -> None:
    first = await login(http)
    await refresh(http, first["refresh_token"])
    info = await http.get("/v2/user/info/", params={"fields": "open_id"}, headers=bearer(first))
    assert info.status_code == 200


async def test_refresh_tokens_expire(http: httpx.AsyncClient, clock: FakeClock) -> None:
    tokens = await login(http)
    clock.now += 31536000
    assert (await refresh(http, tokens["refresh_token"]))["error"] == "invalid_grant"


async def test_refresh_needs_the_client_secret(http: httpx.AsyncClient) -> None:
    tokens = await login(http)
    data = {
        "client_key": KEY,
        "client_secret": "wrong",
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
    }
    body = (await http.post("/v2/oauth/token/", data=data)).json()
    assert body["error"] == "invalid_client"


# Revoke --------------------------------------------------------------------------------------


async def revoke(http: httpx.AsyncClient, token: str) -> httpx.Response:
    data = {"client_key": KEY, "client_secret": SECRET, "token": token}
    return await http.post("/v2/oauth/revoke/", data=data)


async def test_revoke_kills_the_access_token_and_its_refresh_token(
    http: httpx.AsyncClient,
) -> None:
    tokens = await login(http)
    response = await revoke(http, tokens["access_token"])
    assert response.status_code == 200
    assert response.json() == {}
    info = await http.get("/v2/user/info/", params={"fields": "open_id"}, headers=bearer(tokens))
    assert info.status_code == 401
    assert (await refresh(http, tokens["refresh_token"]))["error"] == "invalid_grant"


async def test_revoking_an_expired_access_token_is_refused_with_http_200(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    tokens = await login(http)
    clock.now += 86400
    response = await revoke(http, tokens["access_token"])
    assert response.status_code == 200
    assert response.json()["error"] == "invalid_request"
    assert "access_token" in await refresh(http, tokens["refresh_token"])


# User info -----------------------------------------------------------------------------------


async def user_info(http: httpx.AsyncClient, tokens: dict[str, Any], fields: str) -> httpx.Response:
    return await http.get("/v2/user/info/", params={"fields": fields}, headers=bearer(tokens))


async def test_user_info_returns_only_the_requested_fields_in_the_envelope(
    http: httpx.AsyncClient,
) -> None:
    tokens = await login(http)
    response = await user_info(http, tokens, "open_id,display_name,is_verified,follower_count")
    assert response.status_code == 200
    body = response.json()
    assert body["error"]["code"] == "ok"
    assert body["error"]["message"] == ""
    assert body["error"]["log_id"]
    assert body["data"]["user"] == {
        "open_id": ADA,
        "display_name": "Ada Sandbox",
        "is_verified": True,
        "follower_count": 1_204_331,
    }


async def test_avatar_urls_point_at_the_emulator_and_render(http: httpx.AsyncClient) -> None:
    tokens = await login(http)
    user = (await user_info(http, tokens, "avatar_url,avatar_url_100")).json()["data"]["user"]
    assert user["avatar_url"].startswith(f"{BASE}/_assets/avatar/")
    for url in user.values():
        image = await http.get(url)
        assert image.status_code == 200
        assert image.headers["content-type"].startswith("image/svg+xml")


async def test_a_field_of_an_ungranted_scope_is_scope_not_authorized(
    http: httpx.AsyncClient,
) -> None:
    tokens = await login(http, scopes=[])
    response = await user_info(http, tokens, "open_id,follower_count")
    assert response.status_code == 401
    assert response.json()["data"] == {}
    assert response.json()["error"]["code"] == "scope_not_authorized"
    assert (await user_info(http, tokens, "open_id,display_name")).status_code == 200


@pytest.mark.parametrize("fields", ["open_id,shoe_size", ""])
async def test_unknown_or_missing_fields_are_invalid_params(
    http: httpx.AsyncClient, fields: str
) -> None:
    response = await user_info(http, await login(http), fields)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_params"


async def test_expired_and_unknown_tokens_are_access_token_invalid(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    tokens = await login(http)
    clock.now += 86400
    expired = await user_info(http, tokens, "open_id")
    unknown = await user_info(http, {"access_token": "act.nope"}, "open_id")
    missing = await http.get("/v2/user/info/", params={"fields": "open_id"})
    for response in (expired, unknown, missing):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "access_token_invalid"


# Videos --------------------------------------------------------------------------------------


async def test_video_list_pages_to_the_end_newest_first_without_duplicates(
    http: httpx.AsyncClient,
) -> None:
    tokens = await login(http)
    seen: list[dict[str, Any]] = []
    cursor, short_page_with_more = 0, False
    for _ in range(20):
        response = await list_videos(http, tokens, cursor=cursor, max_count=10)
        assert response.status_code == 200
        data = response.json()["data"]
        seen.extend(data["videos"])
        short_page_with_more |= len(data["videos"]) < 10 and data["has_more"]
        if not data["has_more"]:
            break
        assert data["cursor"] == data["videos"][-1]["create_time"] * 1000
        cursor = data["cursor"]
    else:
        pytest.fail("video/list never reported has_more=false")
    ids = [video["id"] for video in seen]
    times = [video["create_time"] for video in seen]
    assert len(ids) == len(set(ids)) == 45
    assert all(earlier > later for earlier, later in itertools.pairwise(times))
    assert all(isinstance(i, str) and i.isdigit() and len(i) == 19 for i in ids)
    assert short_page_with_more, "TikTok's short-page quirk was not reproduced"


ALL_VIDEO_FIELDS = (
    "id,create_time,cover_image_url,share_url,video_description,duration,height,width,title,"
    "embed_html,embed_link,like_count,comment_count,share_count,view_count"
)


async def test_video_fields_are_complete_and_links_resolve(http: httpx.AsyncClient) -> None:
    tokens = await login(http)
    response = await http.post(
        "/v2/video/list/",
        params={"fields": ALL_VIDEO_FIELDS},
        json={"max_count": 1},
        headers=bearer(tokens),
    )
    video = response.json()["data"]["videos"][0]
    assert set(video) == set(ALL_VIDEO_FIELDS.split(","))
    assert isinstance(video["view_count"], int)
    assert f'data-video-id="{video["id"]}"' in video["embed_html"]
    for name in ("cover_image_url", "share_url", "embed_link"):
        assert video[name].startswith(BASE)
        assert (await http.get(video[name])).status_code == 200


async def test_cover_urls_expire_and_video_query_refreshes_them(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    tokens = await login(http)
    video = (await list_videos(http, tokens, max_count=1)).json()["data"]["videos"][0]
    clock.now += 6 * 3600 + 1
    assert (await http.get(video["cover_image_url"])).status_code == 403
    tokens = await refresh(http, tokens["refresh_token"])
    queried = await http.post(
        "/v2/video/query/",
        params={"fields": "cover_image_url"},
        json={"filters": {"video_ids": [video["id"]]}},
        headers=bearer(tokens),
    )
    fresh = queried.json()["data"]["videos"][0]["cover_image_url"]
    assert (await http.get(fresh)).status_code == 200


@pytest.mark.parametrize("max_count", [0, 21, "10", True])
async def test_max_count_outside_1_to_20_is_invalid_params(
    http: httpx.AsyncClient, max_count: Any
) -> None:
    response = await list_videos(http, await login(http), max_count=max_count)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_params"


async def test_max_count_defaults_to_10(http: httpx.AsyncClient) -> None:
    response = await list_videos(http, await login(http))
    assert len(response.json()["data"]["videos"]) == 10


async def test_video_list_needs_the_video_list_scope(http: httpx.AsyncClient) -> None:
    response = await list_videos(http, await login(http, scopes=["user.info.profile"]))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "scope_not_authorized"


async def test_video_query_returns_only_the_token_users_videos(http: httpx.AsyncClient) -> None:
    ada = await login(http)
    bao = await login(http, user=BAO)
    ada_ids = [
        v["id"] for v in (await list_videos(http, ada, max_count=2)).json()["data"]["videos"]
    ]
    bao_id = (await list_videos(http, bao, max_count=1)).json()["data"]["videos"][0]["id"]
    response = await http.post(
        "/v2/video/query/",
        params={"fields": "id,title"},
        json={"filters": {"video_ids": [ada_ids[1], bao_id, "1", ada_ids[0]]}},
        headers=bearer(ada),
    )
    assert response.status_code == 200
    assert [v["id"] for v in response.json()["data"]["videos"]] == [ada_ids[1], ada_ids[0]]


async def test_video_query_takes_at_most_20_ids(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v2/video/query/",
        params={"fields": "id"},
        json={"filters": {"video_ids": [str(n) for n in range(21)]}},
        headers=bearer(await login(http)),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_params"


# Rate limits ---------------------------------------------------------------------------------


async def test_rate_limit_is_a_sliding_minute_per_endpoint(clock: FakeClock) -> None:
    app = create_emulator(EmulatorConfig(rate_limit_per_minute=3))
    app.state.emulator.clock = clock
    async with client_for(app) as http:
        tokens = await login(http)
        for _ in range(3):
            assert (await user_info(http, tokens, "open_id")).status_code == 200
            clock.now += 10
        limited = await user_info(http, tokens, "open_id")
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limit_exceeded"
        assert limited.json()["data"] == {}
        assert (await list_videos(http, tokens)).status_code == 200  # another endpoint
        clock.now += 31  # the first request leaves the window
        assert (await user_info(http, tokens, "open_id")).status_code == 200
        assert (await user_info(http, tokens, "open_id")).status_code == 429


# Faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status"),
    [("http_500", 500), ("http_503", 503), ("http_429", 429), ("garbage", 200)],
)
async def test_faults_hit_the_next_requests_then_stop(
    http: httpx.AsyncClient, kind: str, status: int
) -> None:
    tokens = await login(http)
    await add_fault(http, endpoint="user_info", kind=kind, count=2)
    for _ in range(2):
        faulted = await user_info(http, tokens, "open_id")
        assert faulted.status_code == status
        if kind == "garbage":
            with pytest.raises(json.JSONDecodeError):
                faulted.json()
    assert (await user_info(http, tokens, "open_id")).status_code == 200


async def test_display_faults_use_the_envelope(http: httpx.AsyncClient) -> None:
    tokens = await login(http)
    await add_fault(http, endpoint="video_list", kind="http_500")
    await add_fault(http, endpoint="video_list", kind="http_429")
    await add_fault(http, endpoint="video_list", kind="error_body", error="access_token_invalid")
    codes = []
    for _ in range(3):
        response = await list_videos(http, tokens)
        codes.append((response.status_code, response.json()["error"]["code"]))
    assert codes == [
        (500, "internal_error"),
        (429, "rate_limit_exceeded"),
        (200, "access_token_invalid"),
    ]


async def test_an_error_body_fault_on_token_is_an_oauth_error_with_http_200(
    http: httpx.AsyncClient,
) -> None:
    tokens = await login(http)
    await add_fault(http, endpoint="token", kind="error_body", error="invalid_grant")
    faulted = await refresh(http, tokens["refresh_token"])
    assert faulted["error"] == "invalid_grant"
    assert faulted["log_id"]
    # The faulted request never reached the grant logic: the refresh token still works.
    assert "access_token" in await refresh(http, tokens["refresh_token"])


async def test_an_http_500_fault_on_revoke_is_an_oauth_server_error(
    http: httpx.AsyncClient,
) -> None:
    tokens = await login(http)
    await add_fault(http, endpoint="revoke", kind="http_500")
    response = await revoke(http, tokens["access_token"])
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"


async def test_latency_fault_delays_then_answers_normally(http: httpx.AsyncClient) -> None:
    tokens = await login(http)
    await add_fault(http, endpoint="*", kind="latency", latency_ms=200)
    started = time.monotonic()
    delayed = await user_info(http, tokens, "open_id")
    assert time.monotonic() - started >= 0.2
    assert delayed.status_code == 200
    assert delayed.json()["data"]["user"]["open_id"] == ADA


async def test_a_wildcard_fault_hits_any_endpoint(http: httpx.AsyncClient) -> None:
    await add_fault(http, endpoint="*", kind="http_503")
    assert (await http.post("/v2/oauth/token/", data={})).status_code == 503
    assert (await http.post("/v2/oauth/token/", data={})).json()["error"] == "invalid_client"


async def test_faults_can_be_listed_and_cleared(http: httpx.AsyncClient) -> None:
    await add_fault(http, endpoint="token", kind="http_500", count=3)
    pending = (await http.get("/_control/faults")).json()["pending"]
    assert [(f["endpoint"], f["kind"], f["remaining"]) for f in pending] == [
        ("token", "http_500", 3)
    ]
    assert (await http.delete("/_control/faults")).json() == {"cleared": 1}
    assert (await http.post("/v2/oauth/token/", data={})).status_code == 200


async def test_an_unknown_fault_kind_is_rejected(http: httpx.AsyncClient) -> None:
    response = await http.post("/_control/faults", json={"endpoint": "token", "kind": "fire"})
    assert response.status_code == 422


# Control -------------------------------------------------------------------------------------


async def test_stats_count_token_requests_by_grant_type(http: httpx.AsyncClient) -> None:
    tokens = await login(http)
    for _ in range(3):
        tokens = await refresh(http, tokens["refresh_token"])
    await add_fault(http, endpoint="user_info", kind="http_500")
    for _ in range(2):
        await user_info(http, tokens, "open_id")
    stats = (await http.get("/_control/stats")).json()
    assert stats["token.authorization_code"] == 1
    assert stats["token.refresh_token"] == 3
    assert stats["user_info"] == 2  # faulted requests count too
    assert stats["video_list"] == 0
    assert stats["authorize.approve"] == 1


async def test_reset_forgets_tokens_and_counters(http: httpx.AsyncClient) -> None:
    tokens = await login(http)
    assert (await http.post("/_control/reset")).status_code == 204
    assert (await user_info(http, tokens, "open_id")).status_code == 401
    assert (await http.get("/_control/stats")).json()["token.authorization_code"] == 0


async def test_the_clock_control_expires_tokens_over_http(http: httpx.AsyncClient) -> None:
    tokens = await login(http)
    assert (await http.post("/_control/clock", json={"seconds": 86400})).status_code == 200
    assert (await user_info(http, tokens, "open_id")).status_code == 401


async def test_users_are_listed_with_distinct_open_ids(http: httpx.AsyncClient) -> None:
    users = (await http.get("/_control/users")).json()["users"]
    assert len({user["open_id"] for user in users}) == len(users) >= 3
    assert {user["username"] for user in users} >= {"ada.sandbox", "bao_tests"}
    assert any(user["is_verified"] for user in users)


async def test_the_landing_page_and_profiles_render(http: httpx.AsyncClient) -> None:
    landing = await http.get("/")
    assert landing.status_code == 200
    assert "/_control/stats" in landing.text
    assert ADA in landing.text
    profile = await http.get("/@zoe_nandu")
    assert profile.status_code == 200
    assert "&lt;angle brackets&gt;" in profile.text


# Webhooks ------------------------------------------------------------------------------------


def test_webhook_signature_matches_tiktoks_test_vector() -> None:
    body = (
        b'{"client_key":"bwo2m45353a6k85","event":"authorization.removed",'
        b'"create_time":1615338610,"user_openid":"act.example12345Example12345Example",'
        b'"content":"{\\"reason\\": 1 }"}'
    )
    assert sign_webhook("test_client_secret", body, 1615338610) == (
        "t=1615338610,s=15ed02f792bc39e0e5958b4e8ff4151d28449cebda8e23079f9401c6bdd063ca"
    )


@respx.mock
async def test_revoking_a_user_kills_tokens_and_sends_a_signed_webhook(clock: FakeClock) -> None:
    route = respx.post(WEBHOOK_URL).mock(return_value=httpx.Response(200))
    app = create_emulator(EmulatorConfig(webhook_url=WEBHOOK_URL))
    app.state.emulator.clock = clock
    async with client_for(app) as http:
        tokens = await login(http, user=BAO)
        response = await http.post(f"/_control/users/{BAO}/revoke")
        assert response.status_code == 200
        assert response.json() == {
            "open_id": BAO,
            "revoked_grants": 1,
            "webhook": {"url": WEBHOOK_URL, "status_code": 200, "error": None},
        }
        assert (await user_info(http, tokens, "open_id")).status_code == 401
        assert (await refresh(http, tokens["refresh_token"]))["error"] == "invalid_grant"
    request = route.calls.last.request
    body = request.content
    assert request.headers["TikTok-Signature"] == sign_webhook(SECRET, body, int(clock.now))
    envelope = json.loads(body)
    assert envelope == {
        "client_key": KEY,
        "event": "authorization.removed",
        "create_time": int(clock.now),
        "user_openid": BAO,
        "content": envelope["content"],
    }
    assert json.loads(envelope["content"]) == {"reason": 1}


@respx.mock
async def test_a_failed_webhook_delivery_is_reported_not_raised() -> None:
    respx.post(WEBHOOK_URL).mock(side_effect=httpx.ConnectError("refused"))
    async with client_for(create_emulator(EmulatorConfig(webhook_url=WEBHOOK_URL))) as http:
        response = await http.post(f"/_control/users/{ADA}/revoke")
    assert response.status_code == 200
    webhook = response.json()["webhook"]
    assert webhook["status_code"] is None
    assert "ConnectError" in webhook["error"]


async def test_revoking_an_unknown_user_is_404(http: httpx.AsyncClient) -> None:
    assert (await http.post("/_control/users/nobody/revoke")).status_code == 404


# Mounting ------------------------------------------------------------------------------------


async def test_links_carry_the_mount_prefix() -> None:
    parent = FastAPI()
    parent.mount("/_tiktok", create_emulator())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=parent), base_url="http://api.test"
    ) as http:
        page = await http.get(
            "/_tiktok/v2/auth/authorize/", params=authorize_params(redirect_uri=REDIRECT)
        )
        form = read_form(page.text)
        assert form.action == "/_tiktok/v2/auth/authorize/"
        data = {**form.hidden, "decision": "approve", "user": ADA, "scope": []}
        code = query(await http.post(form.action, data=data))["code"]
        tokens = (
            await http.post(
                "/_tiktok/v2/oauth/token/",
                data={
                    "client_key": KEY,
                    "client_secret": SECRET,
                    "code": code,
                    "grant_type": "authorization_code",
                    "redirect_uri": REDIRECT,
                    "code_verifier": VERIFIER,
                },
            )
        ).json()
        info = await http.get(
            "/_tiktok/v2/user/info/", params={"fields": "avatar_url"}, headers=bearer(tokens)
        )
        avatar = info.json()["data"]["user"]["avatar_url"]
        assert avatar.startswith("http://api.test/_tiktok/_assets/avatar/")
        assert (await http.get(avatar)).status_code == 200
