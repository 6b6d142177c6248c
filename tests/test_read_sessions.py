"""Reads do not write: routes that only read take a read session, which takes no write lock
(SQLite: a deferred BEGIN, not BEGIN IMMEDIATE) and refuses to write or commit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.accounts.models import AccountStatus, IntegrationAccount, Platform
from app.core.db import AsyncReadSession, ReadOnlySessionError
from tests.conftest import PROMPTLY, writer_holding_the_lock

API = "/api/integrations/accounts/"


async def test_read_routes_answer_while_another_connection_holds_the_write_lock(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], database_url: str
) -> None:
    created = await client.post(API, json={"platform": "tiktok", "name": "Main"}, headers=auth())
    assert created.status_code == 201
    account_id = created.json()["id"]

    async with writer_holding_the_lock(database_url):
        listed, read, logs = await asyncio.wait_for(
            asyncio.gather(
                client.get(API, headers=auth()),
                client.get(f"{API}{account_id}/", headers=auth()),
                client.get(f"{API}{account_id}/logs/", headers=auth()),
            ),
            PROMPTLY,
        )

    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [account_id]
    assert read.status_code == 200
    assert read.json()["name"] == "Main"
    assert logs.status_code == 200
    assert [entry["event"] for entry in logs.json()["items"]] == ["account.created"]


def _account(company: str = "acme") -> IntegrationAccount:
    return IntegrationAccount(
        id=uuid.uuid4(),
        company_id=company,
        platform=Platform.tiktok,
        name="Nope",
        status=AccountStatus.pending,
    )


async def _count(app: FastAPI) -> int:
    maker: async_sessionmaker[AsyncReadSession] = app.state.read_sessionmaker
    async with maker() as session:
        return (await session.scalar(select(func.count()).select_from(IntegrationAccount))) or 0


async def test_a_read_session_refuses_to_write_or_commit(app: FastAPI) -> None:
    maker: async_sessionmaker[AsyncReadSession] = app.state.read_sessionmaker

    async with maker() as session:
        session.add(_account())
        with pytest.raises(ReadOnlySessionError):
            await session.flush()

    async with maker() as session:
        with pytest.raises(ReadOnlySessionError):
            await session.execute(
                insert(IntegrationAccount).values(
                    id=uuid.uuid4(),
                    company_id="acme",
                    platform=Platform.tiktok,
                    name="Nope",
                    status=AccountStatus.pending,
                )
            )
        with pytest.raises(ReadOnlySessionError):
            await session.execute(update(IntegrationAccount).values(name="Nope"))
        with pytest.raises(ReadOnlySessionError):
            await session.commit()

    assert await _count(app) == 0


async def test_a_read_session_reads_what_write_sessions_committed(app: FastAPI) -> None:
    async with app.state.sessionmaker() as writer:
        writer.add(_account())
        await writer.commit()
    assert await _count(app) == 1


async def test_the_account_list_filters_and_pages_as_before(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    ids = []
    for name in ("One", "Two", "Three"):
        response = await client.post(API, json={"platform": "tiktok", "name": name}, headers=auth())
        ids.append(response.json()["id"])

    async def listed(**params: str | int) -> list[str]:
        response = await client.get(API, params=params, headers=auth())
        assert response.status_code == 200
        return [item["id"] for item in response.json()["items"]]

    assert await listed() == ids[::-1]
    assert await listed(status="pending", platform="tiktok") == ids[::-1]
    assert await listed(status="connected") == []
    assert await listed(platform="tiktok_ads") == []
    first = (await client.get(API, params={"limit": 2}, headers=auth())).json()
    rest = await listed(limit=2, cursor=first["next_cursor"], status="pending")
    assert [item["id"] for item in first["items"]] + rest == ids[::-1]
    assert await listed(company="other") == ids[::-1]  # unknown query parameters are ignored
    assert (await client.get(API, headers=auth("other"))).json()["items"] == []


async def test_pooled_connections_the_server_closed_are_replaced_before_use(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], database_url: str
) -> None:
    """PostgreSQL restarts (or drops idle connections): the next requests still answer."""
    if make_url(database_url).get_backend_name() == "sqlite":
        pytest.skip("PostgreSQL closes server-side connections; SQLite has none")
    for _ in range(3):  # several pooled connections
        assert (await client.get(API, headers=auth())).status_code == 200
    admin = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await admin.dispose()
    await asyncio.sleep(0.2)  # the event loop reads each closed socket

    for _ in range(3):
        assert (await client.get(API, headers=auth())).status_code == 200
    created = await client.post(API, json={"platform": "tiktok", "name": "After"}, headers=auth())
    assert created.status_code == 201
