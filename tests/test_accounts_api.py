"""Accounts API: create, list, read, rename, delete — scoped to the caller's company."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

API = "/api/integrations/accounts/"
Auth = Callable[..., dict[str, str]]


async def _create(client: httpx.AsyncClient, auth: Auth, name: str = "Main", **kw: str) -> dict:
    response = await client.post(API, json={"platform": "tiktok", "name": name}, headers=auth(**kw))
    assert response.status_code == 201, response.text
    return response.json()


async def test_created_account_is_pending_and_owned_by_its_creator(client, auth) -> None:
    account = await _create(client, auth, "Brand account")
    assert account["status"] == "pending"
    assert account["platform"] == "tiktok"
    assert account["name"] == "Brand account"
    assert account["created_by"] == "user-1"
    assert account["granted_scopes"] == []


async def test_account_lifecycle_create_list_rename_delete(client, auth) -> None:
    account = await _create(client, auth)
    url = f"{API}{account['id']}/"

    listed = (await client.get(API, params={"platform": "tiktok"}, headers=auth())).json()
    assert [item["id"] for item in listed["items"]] == [account["id"]]

    renamed = await client.patch(url, json={"name": "  Renamed  "}, headers=auth())
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Renamed"

    assert (await client.delete(url, headers=auth())).status_code == 204
    missing = await client.get(url, headers=auth())
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "account_not_found"


async def test_another_companys_account_is_indistinguishable_from_a_missing_one(
    client, auth
) -> None:
    account = await _create(client, auth, company="acme")
    url = f"{API}{account['id']}/"
    other = auth("other")
    never = f"{API}00000000-0000-0000-0000-000000000000/"
    for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
        theirs = await client.request(method, url, json=body, headers=other)
        nobody = await client.request(method, never, json=body, headers=other)
        assert theirs.status_code == nobody.status_code == 404
        assert theirs.json() == nobody.json()
    assert (await client.get(API, headers=other)).json()["items"] == []
    assert (await client.get(url, headers=auth("acme"))).json()["name"] == "Main"


async def test_list_filters_by_platform_and_status(client, auth) -> None:
    await _create(client, auth, "tt")
    ads = await client.post(API, json={"platform": "tiktok_ads", "name": "ads"}, headers=auth())
    assert ads.status_code == 201
    by_platform = await client.get(API, params={"platform": "tiktok_ads"}, headers=auth())
    assert [item["name"] for item in by_platform.json()["items"]] == ["ads"]
    connected = await client.get(API, params={"status": "connected"}, headers=auth())
    assert connected.json()["items"] == []
    bad = await client.get(API, params={"status": "bogus"}, headers=auth())
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"


async def test_list_paginates_newest_first_without_gaps_or_repeats(client, auth) -> None:
    created = [(await _create(client, auth, f"account {i}"))["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(API, params=params, headers=auth())).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(created))


async def test_garbage_cursor_is_a_clear_422(client, auth) -> None:
    response = await client.get(API, params={"cursor": "not-a-cursor"}, headers=auth())
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_cursor"


async def test_malformed_json_is_422_in_the_error_shape(client, auth) -> None:
    response = await client.post(
        API,
        content=b'{"platform": "tiktok", "name":',
        headers=auth() | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "malformed_json"
    assert (await client.get(API, headers=auth())).json()["items"] == []


async def test_bad_bodies_are_rejected_without_side_effects(client, auth) -> None:
    bodies = [
        {"platform": "instagram", "name": "x"},
        {"platform": "tiktok"},
        {"platform": "tiktok", "name": "   "},
        {"platform": "tiktok", "name": 12},
        {"platform": "tiktok", "name": "x" * 256},
        {"platform": "tiktok", "name": "x", "status": "connected"},
        ["platform", "tiktok"],
    ]
    for body in bodies:
        response = await client.post(API, json=body, headers=auth())
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"], body
    assert (await client.get(API, headers=auth())).json()["items"] == []


async def test_invalid_account_id_is_422(client, auth) -> None:
    response = await client.get(f"{API}not-a-uuid/", headers=auth())
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_responses_never_carry_token_fields(client, auth, sessionmaker) -> None:
    from app.accounts.models import IntegrationAccount

    account = await _create(client, auth)
    async with sessionmaker() as session:
        row = await session.get(IntegrationAccount, __import__("uuid").UUID(account["id"]))
        assert row is not None
        row.access_token_ciphertext = "CIPHERTEXT-ACCESS"
        row.refresh_token_ciphertext = "CIPHERTEXT-REFRESH"
        await session.commit()
    body = (await client.get(f"{API}{account['id']}/", headers=auth())).text
    listing = (await client.get(API, headers=auth())).text
    for text in (body, listing):
        assert "CIPHERTEXT" not in text
        assert "ciphertext" not in text


async def test_account_log_records_create_and_rename(client, auth) -> None:
    account = await _create(client, auth)
    await client.patch(f"{API}{account['id']}/", json={"name": "New"}, headers=auth())
    logs = await client.get(f"{API}{account['id']}/logs/", headers=auth())
    assert logs.status_code == 200
    events = [entry["event"] for entry in logs.json()["items"]]
    assert events == ["account.renamed", "account.created"]
    other = await client.get(f"{API}{account['id']}/logs/", headers=auth("other"))
    assert other.status_code == 404


@pytest.mark.parametrize("name", ["a\u0000b", "tab\there", "bell\u0007", "c1\u0085x"])
async def test_a_name_with_control_characters_is_422_and_nothing_is_stored(
    client, auth, name: str
) -> None:
    created = await client.post(
        "/api/integrations/accounts/", json={"platform": "tiktok", "name": name}, headers=auth()
    )
    assert created.status_code == 422
    assert created.json()["error"]["code"] == "validation_error"
    ok = await client.post(
        "/api/integrations/accounts/", json={"platform": "tiktok", "name": "Shop"}, headers=auth()
    )
    renamed = await client.patch(
        f"/api/integrations/accounts/{ok.json()['id']}/", json={"name": name}, headers=auth()
    )
    assert renamed.status_code == 422
    listed = await client.get("/api/integrations/accounts/", headers=auth())
    assert [account["name"] for account in listed.json()["items"]] == ["Shop"]


async def test_a_405_names_every_method_the_path_serves(client, auth) -> None:
    listed = await client.request("PUT", "/api/integrations/accounts/", headers=auth())
    assert listed.status_code == 405
    assert listed.headers["allow"] == "GET, POST"
    one = await client.request(
        "OPTIONS", "/api/integrations/accounts/00000000-0000-0000-0000-000000000000/"
    )
    assert one.status_code == 405
    assert one.headers["allow"] == "DELETE, GET, PATCH"
    assert one.json()["error"]["code"] == "method_not_allowed"
