"""Profile, stats and videos of a connected account, and every upstream failure, clearly."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
import respx
from sqlalchemy import select

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.core.config import Settings
from app.core.db import utcnow
from app.jobs.profile_sync import sync_due_profiles
from app.profile.models import StatsSnapshot
from app.profile.service import ProfileService
from app.tiktok.schemas import TokenSet
from app.tokens import store
from tests.conftest import FAKE_TIKTOK, PROMPTLY, fake_tiktok_settings, writer_holding_the_lock

TIKTOK = FAKE_TIKTOK
API = "/api/integrations/accounts/"
ALL_SCOPES = "user.info.basic,user.info.profile,user.info.stats,video.list"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return fake_tiktok_settings(database_url)


def envelope(data: dict, code: str = "ok", log_id: str = "L1") -> dict:
    return {"data": data, "error": {"code": code, "message": "", "log_id": log_id}}


USER = {
    "open_id": "oid-1",
    "display_name": "Ada",
    "username": "ada",
    "avatar_url": "https://cdn/a.png",
    "bio_description": "hello",
    "profile_deep_link": "https://tiktok/@ada",
    "is_verified": True,
    "follower_count": 1200,
    "following_count": 3,
    "likes_count": 45000,
    "video_count": 17,
}


@pytest.fixture
def tiktok():
    with respx.mock(base_url=TIKTOK, assert_all_called=False) as mock:
        mock.get("/v2/user/info/", name="user_info").respond(json=envelope({"user": USER}))
        mock.post("/v2/oauth/token/", name="token").respond(
            json={
                "access_token": "act.REFRESHED",
                "refresh_token": "rft.ROTATED",
                "expires_in": 86400,
                "refresh_expires_in": 31536000,
                "open_id": "oid-1",
                "scope": ALL_SCOPES,
                "token_type": "Bearer",
            }
        )
        yield mock


async def connected_account(
    app, company: str = "acme", scopes: str = ALL_SCOPES, expires_in: int = 86400
) -> str:
    account = IntegrationAccount(
        id=uuid.uuid4(),
        company_id=company,
        platform=Platform.tiktok,
        name="Brand",
        status=AccountStatus.connected,
        external_id="oid-1",
        token_version=0,
    )
    tokens = TokenSet.model_validate(
        {
            "access_token": "act.ORIGINAL",
            "refresh_token": "rft.ORIGINAL",
            "expires_in": expires_in,
            "refresh_expires_in": 31536000,
            "open_id": "oid-1",
            "scope": scopes,
        }
    )
    store.store_tokens(account, tokens, app.state.cipher, utcnow())
    async with app.state.sessionmaker() as session:
        session.add(account)
        await session.commit()
    return str(account.id)


async def test_sync_stores_profile_and_a_stats_snapshot(client, auth, app, tiktok) -> None:
    account_id = await connected_account(app)
    response = await client.post(f"{API}{account_id}/sync/", headers=auth())
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile["display_name"] == "Ada"
    assert profile["is_verified"] is True
    assert profile["stats"]["follower_count"] == 1200
    assert profile["synced_at"] is not None
    request = tiktok["user_info"].calls.last.request
    assert request.headers["authorization"] == "Bearer act.ORIGINAL"
    assert "follower_count" in request.url.params["fields"]

    stored = await client.get(f"{API}{account_id}/tiktok-profile/", headers=auth())
    assert stored.json() == profile
    assert tiktok["user_info"].call_count == 1  # fresh enough: served from the database


async def test_a_fresh_stored_profile_is_read_while_another_connection_holds_the_write_lock(
    client, auth, app, tiktok, database_url
) -> None:
    """A stored profile young enough to serve is a pure read: on SQLite it takes no write
    lock (a writer holding it does not delay the answer), and TikTok is not called."""
    account_id = await connected_account(app)
    synced = await client.post(f"{API}{account_id}/sync/", headers=auth())
    assert synced.status_code == 200, synced.text

    async with writer_holding_the_lock(database_url):
        stored = await asyncio.wait_for(
            client.get(f"{API}{account_id}/tiktok-profile/", headers=auth()), PROMPTLY
        )

    assert stored.status_code == 200
    assert stored.json() == synced.json()
    assert tiktok["user_info"].call_count == 1


async def test_only_fields_of_granted_scopes_are_requested(client, auth, app, tiktok) -> None:
    account_id = await connected_account(app, scopes="user.info.basic")
    tiktok["user_info"].respond(
        json=envelope({"user": {"open_id": "oid-1", "display_name": "Ada"}})
    )
    profile = (await client.post(f"{API}{account_id}/sync/", headers=auth())).json()
    fields = tiktok["user_info"].calls.last.request.url.params["fields"].split(",")
    assert "follower_count" not in fields
    assert "bio_description" not in fields
    assert profile["stats"] is None


async def test_profile_refreshes_when_stale_or_asked(
    client, auth, app, tiktok, sessionmaker
) -> None:
    account_id = await connected_account(app)
    await client.post(f"{API}{account_id}/sync/", headers=auth())
    await client.get(
        f"{API}{account_id}/tiktok-profile/", params={"refresh": "true"}, headers=auth()
    )
    assert tiktok["user_info"].call_count == 2
    async with sessionmaker() as session:
        row = await session.get(IntegrationAccount, uuid.UUID(account_id))
        assert row is not None
        row.profile_synced_at = utcnow() - timedelta(days=1)
        await session.commit()
    await client.get(f"{API}{account_id}/tiktok-profile/", headers=auth())
    assert tiktok["user_info"].call_count == 3


async def test_stale_profile_falls_back_to_stored_when_tiktok_is_down(
    client, auth, app, tiktok, sessionmaker
) -> None:
    account_id = await connected_account(app)
    await client.post(f"{API}{account_id}/sync/", headers=auth())
    async with sessionmaker() as session:
        row = await session.get(IntegrationAccount, uuid.UUID(account_id))
        assert row is not None
        row.profile_synced_at = utcnow() - timedelta(days=1)
        await session.commit()
    tiktok["user_info"].respond(status_code=503)
    stale = await client.get(f"{API}{account_id}/tiktok-profile/", headers=auth())
    assert stale.status_code == 200
    assert stale.json()["display_name"] == "Ada"
    explicit = await client.get(
        f"{API}{account_id}/tiktok-profile/", params={"refresh": "true"}, headers=auth()
    )
    assert explicit.status_code == 502
    assert explicit.json()["error"]["code"] == "tiktok_unavailable"


async def test_stats_history_is_oldest_first_and_filtered_by_since(
    client, auth, app, tiktok, sessionmaker
) -> None:
    account_id = await connected_account(app)
    for count in (10, 20, 30):
        user = USER | {"follower_count": count}
        tiktok["user_info"].respond(json=envelope({"user": user}))
        await client.post(f"{API}{account_id}/sync/", headers=auth())
    history = (await client.get(f"{API}{account_id}/tiktok-stats/", headers=auth())).json()
    assert [item["follower_count"] for item in history["items"]] == [10, 20, 30]
    since = history["items"][1]["captured_at"]
    recent = await client.get(
        f"{API}{account_id}/tiktok-stats/", params={"since": since}, headers=auth()
    )
    assert [item["follower_count"] for item in recent.json()["items"]] == [20, 30]
    other = await client.get(f"{API}{account_id}/tiktok-stats/", headers=auth("other"))
    assert other.status_code == 404


async def test_videos_are_normalised_with_exact_ids_and_cursor(client, auth, app, tiktok) -> None:
    account_id = await connected_account(app)
    body = (
        b'{"data": {"videos": [{"id": 7126711421177430274, "create_time": 1700000000,'
        b' "title": "t", "video_description": "d", "cover_image_url": "https://c/1.jpg",'
        b' "share_url": "https://s/1", "embed_link": "https://e/1", "duration": 12,'
        b' "width": 720, "height": 1280, "view_count": 9007199254740993, "like_count": 5,'
        b' "comment_count": 1, "share_count": 0}], "cursor": 1699999999000, "has_more": true},'
        b' "error": {"code": "ok", "message": "", "log_id": "L"}}'
    )
    route = tiktok.post("/v2/video/list/").respond(
        content=body, headers={"content-type": "application/json"}
    )
    response = await client.get(
        f"{API}{account_id}/tiktok-videos/",
        params={"max_count": 5, "cursor": 1700000001000},
        headers=auth(),
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["cursor"] == 1699999999000
    assert page["has_more"] is True
    video = page["items"][0]
    assert video["id"] == "7126711421177430274"
    assert video["view_count"] == 9007199254740993
    assert video["description"] == "d"
    assert video["created_at"] == "2023-11-14T22:13:20Z"
    import json

    assert json.loads(route.calls.last.request.content) == {"cursor": 1700000001000, "max_count": 5}


@pytest.mark.parametrize("max_count", [0, 21, -1])
async def test_max_count_outside_1_to_20_is_422(client, auth, app, tiktok, max_count) -> None:
    account_id = await connected_account(app)
    response = await client.get(
        f"{API}{account_id}/tiktok-videos/", params={"max_count": max_count}, headers=auth()
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_videos_without_the_video_scope_is_403_scope_not_granted(
    client, auth, app, tiktok
) -> None:
    account_id = await connected_account(app, scopes="user.info.basic")
    response = await client.get(f"{API}{account_id}/tiktok-videos/", headers=auth())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_not_granted"


async def test_account_not_connected_is_409(client, auth, tiktok) -> None:
    created = await client.post(API, json={"platform": "tiktok", "name": "x"}, headers=auth())
    account_id = created.json()["id"]
    for method, path in (("POST", "sync/"), ("GET", "tiktok-videos/"), ("GET", "tiktok-profile/")):
        response = await client.request(method, f"{API}{account_id}/{path}", headers=auth())
        assert response.status_code == 409, path
        assert response.json()["error"]["code"] == "account_not_connected"


async def test_a_disconnected_account_serves_its_stored_profile_but_not_a_refresh(
    client, auth, app, tiktok, sessionmaker
) -> None:
    """Synced, then disconnected: the stored profile is still served, however old (TikTok
    is not asked), but `refresh=true` is 409 `account_not_connected`."""
    account_id = await connected_account(app)
    synced = await client.post(f"{API}{account_id}/sync/", headers=auth())
    assert synced.status_code == 200
    async with sessionmaker() as session:
        row = await session.get(IntegrationAccount, uuid.UUID(account_id))
        assert row is not None
        row.status = AccountStatus.disconnected
        row.profile_synced_at = utcnow() - timedelta(days=1)
        await session.commit()

    stored = await client.get(f"{API}{account_id}/tiktok-profile/", headers=auth())
    assert stored.status_code == 200
    assert stored.json()["display_name"] == synced.json()["display_name"]
    refreshed = await client.get(
        f"{API}{account_id}/tiktok-profile/", params={"refresh": "true"}, headers=auth()
    )
    assert refreshed.status_code == 409
    assert refreshed.json()["error"]["code"] == "account_not_connected"
    assert tiktok["user_info"].call_count == 1


async def test_another_companys_account_is_404(client, auth, app, tiktok) -> None:
    account_id = await connected_account(app)
    for method, path in (("POST", "sync/"), ("GET", "tiktok-videos/"), ("GET", "tiktok-profile/")):
        response = await client.request(method, f"{API}{account_id}/{path}", headers=auth("other"))
        assert response.status_code == 404, path
    assert not tiktok["user_info"].called


@pytest.mark.parametrize(
    ("response", "status", "code"),
    [
        (httpx.Response(429, json=envelope({}, "rate_limit_exceeded")), 429, "tiktok_rate_limited"),
        (httpx.Response(500, json=envelope({}, "internal_error")), 502, "tiktok_unavailable"),
        (httpx.Response(503, text="<html>down</html>"), 502, "tiktok_unavailable"),
        (httpx.Response(200, text="{not json"), 502, "tiktok_invalid_response"),
        (httpx.Response(200, json=envelope({}, "internal_error")), 502, "tiktok_unavailable"),
        (httpx.Response(401, json=envelope({}, "scope_not_authorized")), 403, "scope_not_granted"),
        (httpx.Response(400, json=envelope({}, "invalid_params")), 502, "tiktok_bad_request"),
    ],
    ids=["429", "500", "503-html", "garbage", "200-carrying-error", "scope", "bad-params"],
)
async def test_upstream_failures_map_to_clear_errors(
    client, auth, app, tiktok, response, status, code
) -> None:
    account_id = await connected_account(app)
    tiktok["user_info"].mock(return_value=response)
    answer = await client.post(f"{API}{account_id}/sync/", headers=auth())
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    if status == 429:
        assert int(answer.headers["retry-after"]) > 0


async def test_timeout_is_502_tiktok_unavailable(client, auth, app, tiktok) -> None:
    account_id = await connected_account(app)
    tiktok["user_info"].mock(side_effect=httpx.ReadTimeout("slow"))
    answer = await client.post(f"{API}{account_id}/sync/", headers=auth())
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "tiktok_unavailable"


async def test_tiktok_401_refreshes_once_and_retries(client, auth, app, tiktok) -> None:
    account_id = await connected_account(app)
    tiktok["user_info"].side_effect = [
        httpx.Response(401, json=envelope({}, "access_token_invalid")),
        httpx.Response(200, json=envelope({"user": USER})),
    ]
    answer = await client.post(f"{API}{account_id}/sync/", headers=auth())
    assert answer.status_code == 200, answer.text
    assert tiktok["token"].call_count == 1
    last = tiktok["user_info"].calls.last.request
    assert last.headers["authorization"] == "Bearer act.REFRESHED"


async def test_tiktok_401_twice_is_reauth_required(client, auth, app, tiktok, sessionmaker) -> None:
    account_id = await connected_account(app)
    tiktok["user_info"].respond(status_code=401, json=envelope({}, "access_token_invalid"))
    answer = await client.post(f"{API}{account_id}/sync/", headers=auth())
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "reauth_required"
    assert tiktok["token"].call_count == 1
    async with sessionmaker() as session:
        row = await session.get(IntegrationAccount, uuid.UUID(account_id))
        assert row is not None
        assert row.status == AccountStatus.reauth_required
    again = await client.post(f"{API}{account_id}/sync/", headers=auth())
    assert again.json()["error"]["code"] == "reauth_required"
    assert tiktok["user_info"].call_count == 2


async def test_dead_refresh_token_is_reauth_required(client, auth, app, tiktok) -> None:
    account_id = await connected_account(app, expires_in=1)
    tiktok["token"].respond(
        json={"error": "invalid_grant", "error_description": "x", "log_id": "L"}
    )
    answer = await client.post(f"{API}{account_id}/sync/", headers=auth())
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "reauth_required"
    assert not tiktok["user_info"].called


async def test_background_sync_leases_due_accounts_once(app, tiktok, sessionmaker) -> None:
    due = await connected_account(app)
    fresh = await connected_account(app, company="other")
    async with sessionmaker() as session:
        row = await session.get(IntegrationAccount, uuid.UUID(fresh))
        assert row is not None
        row.profile_synced_at = utcnow()
        await session.commit()
    profiles = ProfileService(app.state.tiktok, app.state.tokens, sessionmaker)
    synced = await sync_due_profiles(profiles, max_age=timedelta(hours=1), requests_per_minute=6000)
    assert synced == 1
    again = await sync_due_profiles(profiles, max_age=timedelta(hours=1), requests_per_minute=6000)
    assert again == 0
    async with sessionmaker() as session:
        snapshots = (await session.scalars(select(StatsSnapshot))).all()
        assert [str(s.account_id) for s in snapshots] == [due]


async def test_profile_endpoints_on_an_ads_account_are_409_wrong_platform(
    client, auth, tiktok
) -> None:
    created = await client.post(API, json={"platform": "tiktok_ads", "name": "ads"}, headers=auth())
    account_id = created.json()["id"]
    for method, path in (("POST", "sync/"), ("GET", "tiktok-videos/")):
        response = await client.request(method, f"{API}{account_id}/{path}", headers=auth())
        assert response.status_code == 409, path
        assert response.json()["error"]["code"] == "wrong_platform"
    deleted = await client.delete(f"{API}{account_id}/", headers=auth())
    assert deleted.status_code == 204


async def test_stats_and_profile_of_an_ads_account_are_409_wrong_platform(
    client, auth, tiktok
) -> None:
    # The platform is checked before the connection: an ads account is never "not connected"
    # to a profile it cannot have.
    created = await client.post(API, json={"platform": "tiktok_ads", "name": "ads"}, headers=auth())
    account_id = created.json()["id"]
    for path in ("tiktok-stats/", "tiktok-profile/", "tiktok-profile/?refresh=true"):
        response = await client.get(f"{API}{account_id}/{path}", headers=auth())
        assert response.status_code == 409, path
        assert response.json()["error"]["code"] == "wrong_platform", path
    assert not tiktok["user_info"].called
