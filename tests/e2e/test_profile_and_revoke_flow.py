"""Against the emulator over real HTTP: connect → sync → profile, stats and videos to the
end → a revoke on TikTok's side → its signed webhook → the account is disconnected and its
log says why."""

from __future__ import annotations

import asyncio

import httpx

from tests.e2e.flow import ACCOUNTS, create_account, decide, follow, open_consent, read_account
from tests.e2e.inbox import apply_stored_webhooks
from tests.live_server import LiveServer

WAIT_SECONDS = 10.0


async def _connect(
    server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> tuple[str, str]:
    account_id = await create_account(api, "Brand account")
    consent_url, form = await open_consent(server, api, browser, account_id)
    user = form.users[0]
    landing = await follow(browser, await decide(browser, consent_url, form, "approve", user))
    assert "connected=true" in landing
    return account_id, user


async def _all_videos(api: httpx.AsyncClient, account_id: str) -> list[dict[str, object]]:
    videos: list[dict[str, object]] = []
    cursor: int | None = None
    for _ in range(100):  # bounded: the emulator's users have well under 100 pages
        params: dict[str, int] = {"max_count": 7} | ({"cursor": cursor} if cursor else {})
        response = await api.get(f"{ACCOUNTS}/{account_id}/tiktok-videos/", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 7
        videos += page["items"]
        if not page["has_more"]:
            return videos
        cursor = page["cursor"]
    raise AssertionError("video pagination did not end")


async def test_sync_profile_videos_then_tiktok_side_revoke_disconnects(
    live_server: LiveServer, api: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    account_id, open_id = await _connect(live_server, api, browser)

    synced = await api.post(f"{ACCOUNTS}/{account_id}/sync/")
    assert synced.status_code == 200, synced.text
    profile = synced.json()
    assert profile["open_id"] == open_id
    assert profile["display_name"]
    assert profile["stats"]["follower_count"] is not None

    stored = (await api.get(f"{ACCOUNTS}/{account_id}/tiktok-profile/")).json()
    assert stored["synced_at"] == profile["synced_at"]
    history = (await api.get(f"{ACCOUNTS}/{account_id}/tiktok-stats/")).json()
    assert len(history["items"]) == 1

    videos = await _all_videos(api, account_id)
    users = (await browser.get("/_tiktok/_control/users")).json()["users"]
    expected = next(user["video_count"] for user in users if user["open_id"] == open_id)
    ids = [video["id"] for video in videos]
    assert len(ids) == expected
    assert len(set(ids)) == len(ids), "no video twice across pages"
    created = [video["created_at"] for video in videos]
    assert created == sorted(created, reverse=True), "newest first"
    cover = await browser.get(str(videos[0]["cover_image_url"]))
    assert cover.status_code == 200

    revoke = await browser.post(f"/_tiktok/_control/users/{open_id}/revoke", params={"reason": 1})
    assert revoke.status_code == 200, revoke.text
    assert revoke.json()["webhook"]["status_code"] == 200
    assert await apply_stored_webhooks(live_server) == 1

    account = await read_account(api, account_id)
    for _ in range(int(WAIT_SECONDS / 0.1)):
        if account["status"] == "disconnected":
            break
        await asyncio.sleep(0.1)
        account = await read_account(api, account_id)
    assert account["status"] == "disconnected"
    assert account["last_error_code"] == "authorization_removed"
    logs = (await api.get(f"{ACCOUNTS}/{account_id}/logs/")).json()["items"]
    removed = next(entry for entry in logs if entry["event"] == "tiktok.authorization_removed")
    assert "disconnected" in removed["message"].lower() or "removed" in removed["message"].lower()

    gone = await api.get(f"{ACCOUNTS}/{account_id}/tiktok-videos/")
    assert gone.status_code == 409
    assert gone.json()["error"]["code"] == "account_not_connected"
