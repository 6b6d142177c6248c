"""Idempotency-Key on `POST /accounts/` and `POST /accounts/{id}/connect/`: a retry gets the
first answer; the key with another body is a 422; keys belong to a company and last 24 h;
concurrent requests with one key do the work once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.accounts import service as accounts_service
from app.accounts.models import IntegrationAccount
from app.core.db import utcnow
from app.idempotency.models import IdempotencyKey
from tests.conftest import fake_tiktok_settings

API = "/api/integrations/accounts/"
BODY = {"platform": "tiktok", "name": "Brand"}


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def _accounts(sessionmaker) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(IntegrationAccount)))


async def test_a_retried_create_returns_the_first_answer_and_creates_once(
    client, auth, sessionmaker
) -> None:
    first = await client.post(API, json=BODY, headers=auth() | _key("create-1"))
    again = await client.post(API, json=BODY, headers=auth() | _key("create-1"))
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content  # the same bytes, not just the same account
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await _accounts(sessionmaker) == 1


async def test_the_same_body_in_another_key_order_is_the_same_request(client, auth) -> None:
    first = await client.post(API, json=BODY, headers=auth() | _key("order"))
    swapped = await client.post(
        API,
        content=b'{"name": "Brand",  "platform": "tiktok"}',
        headers=auth() | _key("order") | {"Content-Type": "application/json"},
    )
    assert swapped.status_code == 201
    assert swapped.json() == first.json()


async def test_the_same_key_with_another_body_is_a_422_and_creates_nothing(
    client, auth, sessionmaker
) -> None:
    await client.post(API, json=BODY, headers=auth() | _key("reused"))
    other = await client.post(API, json=BODY | {"name": "Other"}, headers=auth() | _key("reused"))
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert await _accounts(sessionmaker) == 1


async def test_keys_belong_to_a_company(client, auth, sessionmaker) -> None:
    acme = await client.post(API, json=BODY, headers=auth("acme") | _key("shared"))
    globex = await client.post(API, json=BODY, headers=auth("globex") | _key("shared"))
    assert (acme.status_code, globex.status_code) == (201, 201)
    assert acme.json()["id"] != globex.json()["id"]
    assert await _accounts(sessionmaker) == 2


async def test_without_a_key_every_request_is_new(client, auth, sessionmaker) -> None:
    await client.post(API, json=BODY, headers=auth())
    await client.post(API, json=BODY, headers=auth())
    assert await _accounts(sessionmaker) == 2


async def test_a_key_expires_after_24_hours(client, auth, sessionmaker) -> None:
    first = await client.post(API, json=BODY, headers=auth() | _key("daily"))
    async with sessionmaker() as session:
        row = await session.scalar(select(IdempotencyKey))
        assert row is not None
        lifetime = row.expires_at - row.created_at
        await session.execute(
            update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    assert lifetime == timedelta(hours=24)
    later = await client.post(API, json=BODY | {"name": "New"}, headers=auth() | _key("daily"))
    assert later.status_code == 201
    assert later.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in later.headers
    assert await _accounts(sessionmaker) == 2


async def test_expired_keys_are_deleted_as_new_ones_are_claimed(client, auth, sessionmaker) -> None:
    for index in range(5):
        await client.post(API, json=BODY, headers=auth() | _key(f"old-{index}"))
    async with sessionmaker() as session:
        await session.execute(
            update(IdempotencyKey).values(expires_at=utcnow() - timedelta(minutes=1))
        )
        await session.commit()
    await client.post(API, json=BODY, headers=auth("globex") | _key("new"))
    async with sessionmaker() as session:
        keys = (await session.scalars(select(IdempotencyKey.key))).all()
    assert keys == ["new"]


async def test_a_failed_request_leaves_no_key_so_its_retry_runs(client, auth) -> None:
    missing = f"{API}00000000-0000-0000-0000-000000000000/connect/"
    failed = await client.post(missing, headers=auth() | _key("retry-me"))
    assert failed.status_code == 404
    created = await client.post(API, json=BODY, headers=auth() | _key("retry-me"))
    assert created.status_code == 201
    assert "idempotent-replayed" not in created.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "tab\tkey", "é"])
async def test_a_malformed_key_is_a_422(client, auth, key: str) -> None:
    headers = auth() | {"Idempotency-Key": key}
    try:
        response = await client.post(API, json=BODY, headers=headers)
    except UnicodeEncodeError:
        return  # not even sendable as a header
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_concurrent_requests_with_one_key_create_once(
    client, auth, sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second request waits for the first (the key's row, or SQLite's write lock) and
    answers the first's result: one account, the same answer twice."""
    create = accounts_service.create

    async def slow_create(*args, **kwargs):  # type: ignore[no-untyped-def]
        account = await create(*args, **kwargs)
        await asyncio.sleep(0.3)  # hold the claim while the twin arrives
        return account

    monkeypatch.setattr(accounts_service, "create", slow_create)
    headers = auth() | _key("twins")
    first, second = await asyncio.gather(
        client.post(API, json=BODY, headers=headers),
        client.post(API, json=BODY, headers=headers),
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.content == second.content
    replayed = [r.headers.get("idempotent-replayed") for r in (first, second)]
    assert replayed.count("true") == 1
    assert await _accounts(sessionmaker) == 1


# connect -----------------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return fake_tiktok_settings(database_url, **getattr(request, "param", {}))


async def test_a_retried_connect_returns_the_first_authorization_url(client, auth) -> None:
    account = (await client.post(API, json=BODY, headers=auth())).json()["id"]
    url = f"{API}{account}/connect/"
    first = await client.post(url, headers=auth() | _key("connect-1"))
    again = await client.post(url, headers=auth() | _key("connect-1"))
    fresh = await client.post(url, headers=auth())
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert fresh.json()["state"] != first.json()["state"]
    # The first answer set the state cookie; a replay only has the hop URL, which sets it.
    assert "set-cookie" in first.headers
    assert "set-cookie" not in again.headers
    logs = (await client.get(f"{API}{account}/logs/", headers=auth())).json()["items"]
    assert [entry["event"] for entry in logs].count("connect.started") == 2


async def test_the_same_connect_key_for_another_account_or_body_is_a_422(client, auth) -> None:
    one = (await client.post(API, json=BODY, headers=auth())).json()["id"]
    two = (await client.post(API, json=BODY, headers=auth())).json()["id"]
    ok = await client.post(f"{API}{one}/connect/", headers=auth() | _key("c"))
    assert ok.status_code == 200
    other_account = await client.post(f"{API}{two}/connect/", headers=auth() | _key("c"))
    other_body = await client.post(
        f"{API}{one}/connect/", json={"mode": "popup"}, headers=auth() | _key("c")
    )
    for response in (other_account, other_body):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
    # No body and the default body are the same request.
    default = await client.post(
        f"{API}{one}/connect/", json={"mode": "redirect"}, headers=auth() | _key("c")
    )
    assert default.status_code == 200
    assert default.json() == ok.json()


async def _connect_key(sessionmaker) -> IdempotencyKey:  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        row = await session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "link"))
        assert row is not None
        return row


async def test_a_connect_key_lives_as_long_as_the_link_it_answers(
    client, auth, sessionmaker, settings
) -> None:
    """A replay must not hand out a dead link: the answer's ticket and state are valid
    OAUTH_STATE_TTL_SECONDS, so the key is too; after that a retry starts a new attempt."""
    account = (await client.post(API, json=BODY, headers=auth())).json()["id"]
    url = f"{API}{account}/connect/"
    first = await client.post(url, headers=auth() | _key("link"))
    row = await _connect_key(sessionmaker)
    assert row.expires_at - row.created_at == timedelta(seconds=settings.oauth_state_ttl_seconds)
    async with sessionmaker() as session:
        await session.execute(
            update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    later = await client.post(url, headers=auth() | _key("link"))
    assert later.status_code == 200
    assert "idempotent-replayed" not in later.headers
    assert later.json()["state"] != first.json()["state"]


@pytest.mark.parametrize("settings", [{"oauth_state_ttl_seconds": 3 * 86400}], indirect=True)
async def test_a_connect_key_lives_24_hours_at_most(client, auth, sessionmaker) -> None:
    account = (await client.post(API, json=BODY, headers=auth())).json()["id"]
    await client.post(f"{API}{account}/connect/", headers=auth() | _key("link"))
    row = await _connect_key(sessionmaker)
    assert row.expires_at - row.created_at == timedelta(hours=24)


async def test_a_popup_connect_key_from_another_page_is_another_request(client, auth) -> None:
    """Without return_to a popup posts to the page that asked (its Origin): the same key
    from another page would replay a link that posts elsewhere."""
    account = (await client.post(API, json=BODY, headers=auth())).json()["id"]
    url = f"{API}{account}/connect/"
    popup = {"mode": "popup"}
    frontend = auth() | _key("popup") | {"Origin": "http://frontend.test"}
    first = await client.post(url, json=popup, headers=frontend)
    again = await client.post(url, json=popup, headers=frontend)
    elsewhere = await client.post(
        url, json=popup, headers=frontend | {"Origin": "http://other.test"}
    )
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["idempotent-replayed"] == "true"
    assert elsewhere.status_code == 422
    assert elsewhere.json()["error"]["code"] == "idempotency_key_reused"
