"""Test fixtures: every database test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from TEST_POSTGRES_URL (an admin URL; a throwaway database is created
and dropped per run). Without it the PostgreSQL half is skipped locally and fails in CI.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings
from app.core.migrations import upgrade_to_head
from app.main import create_app
from app.models import Base
from app.webhooks.jobs import process_new_events

JWT_SECRET = "test-jwt-secret-with-enough-length-0123456789"
SERVICE_KEY = "svc-key-0123456789abcdef"
ENCRYPTION_KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDA="


def _postgres_admin_url() -> str | None:
    return os.environ.get("TEST_POSTGRES_URL") or None


async def _pg_execute(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}")
    pytest.skip(f"PostgreSQL not available ({reason}); set TEST_POSTGRES_URL")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database of each kind for the whole run."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade_to_head(url)
        yield url
        return
    admin = _postgres_admin_url()
    if admin is None:
        _unavailable("TEST_POSTGRES_URL is not set")
        return
    name = f"tiktok_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg_execute(admin, f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        _unavailable(f"{type(exc).__name__}: {exc}")
        return
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        asyncio.run(_pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": "sqlite+aiosqlite:///:memory:",
        "auth_jwt_secret": JWT_SECRET,
        "service_api_keys": f"crm-backend:{SERVICE_KEY}",
        "integration_encryption_key": ENCRYPTION_KEY,
        "secret_key": "test-secret-key-0123456789",
        "api_base_url": "http://testserver",
        "frontend_url": "http://frontend.test",
        # Tests drive background jobs explicitly; none run behind their back.
        "background_jobs_enabled": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


FAKE_TIKTOK = "https://tiktok.test"


def fake_tiktok_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings whose TikTok is `FAKE_TIKTOK` (stubbed with respx by the test)."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "tiktok_client_id": "ck",
        "tiktok_client_secret": "cs",
        "tiktok_auth_base_url": FAKE_TIKTOK,
        "tiktok_api_base_url": FAKE_TIKTOK,
    }
    return make_settings(**(values | overrides))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url=database_url)


async def _truncate(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        try:
            yield application
        finally:
            await _truncate(application.state.engine)


@pytest.fixture
def sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    return maker


WEBHOOKS_PATH = "/api/integrations/webhooks/"


async def inbox_pass(app: FastAPI) -> int:
    """One pass of the webhook inbox job over every source: what the in-process job does
    when a store wakes it (tests run with background jobs off)."""
    return await process_new_events(app.state.sessionmaker, app.state.webhook_handlers)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app, with each TikTok webhook delivery followed by one inbox pass (see
    `inbox_pass`): a test sees what the running service shows moments after the 200."""

    async def after_webhook(response: httpx.Response) -> None:
        request = response.request
        if request.method == "POST" and request.url.path.startswith(WEBHOOKS_PATH):
            await inbox_pass(app)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        event_hooks={"response": [after_webhook]},
    ) as http:
        yield http


def make_token(
    company: str = "acme",
    user: str = "user-1",
    *,
    secret: str = JWT_SECRET,
    ttl: timedelta = timedelta(hours=1),
    **claims: Any,
) -> str:
    now = datetime.now(UTC)
    payload: dict[str, Any] = {"sub": user, "company_id": company, "iat": now, "exp": now + ttl}
    payload.update(claims)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, "HS256")


@pytest.fixture
def auth() -> Callable[..., dict[str, str]]:
    """Headers for a CRM user of a company: `auth("acme")`."""

    def headers(company: str = "acme", **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(company, **claims)}"}

    return headers


# Generous: a bound so a regression fails instead of hanging for the 30 s busy timeout, not
# a measure of speed.
PROMPTLY = 10.0


@asynccontextmanager
async def writer_holding_the_lock(database_url: str) -> AsyncIterator[None]:
    """Another connection in the middle of a write transaction that blocks every writer:
    SQLite's write lock (BEGIN IMMEDIATE), or PostgreSQL's EXCLUSIVE table lock (which
    admits plain SELECTs only)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(str(url.database), isolation_level=None, timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield
        finally:
            connection.rollback()
            connection.close()
        return
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(
                text("LOCK TABLE integration_accounts IN EXCLUSIVE MODE NOWAIT")
            )
            yield
            await connection.rollback()
    finally:
        await engine.dispose()


REPO_ROOT = Path(__file__).resolve().parents[1]
