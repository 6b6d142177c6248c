"""End-to-end fixtures: the real app under uvicorn, with the built-in TikTok emulator.

`live_server` runs on each database of `database_url` (SQLite and PostgreSQL);
`sqlite_live_server` is for the slow browser tests, which run once, on SQLite only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from app.core.migrations import upgrade_to_head
from tests.conftest import make_settings, make_token
from tests.e2e.flow import TIMEOUT
from tests.live_server import LiveServer, delete_all_rows, serve


@asynccontextmanager
async def _serving(database_url: str) -> AsyncIterator[LiveServer]:
    # No tiktok_client_id: the app mounts the emulator at /_tiktok. FRONTEND_URL is the
    # server itself, so the OAuth flow ends on its own /integrations page.
    try:
        with serve(
            lambda url: make_settings(
                database_url=database_url,
                api_base_url=url,
                frontend_url=url,
                background_jobs_enabled=False,
            )
        ) as server:
            yield server
    finally:
        await delete_all_rows(make_settings(database_url=database_url))


@pytest.fixture
async def live_server(database_url: str) -> AsyncIterator[LiveServer]:
    async with _serving(database_url) as server:
        yield server


@pytest.fixture
async def api(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """The CRM frontend's XHR: bearer token, its own cookie jar."""
    headers = {"Authorization": f"Bearer {make_token('acme')}"}
    async with httpx.AsyncClient(
        base_url=live_server.url, headers=headers, timeout=TIMEOUT
    ) as client:
        yield client


@pytest.fixture
async def browser(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """The browser's navigation: one cookie jar, redirects walked by hand."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('e2e-sqlite') / 'e2e.db'}"
    upgrade_to_head(url)
    return url


@pytest.fixture
async def sqlite_live_server(sqlite_database_url: str) -> AsyncIterator[LiveServer]:
    async with _serving(sqlite_database_url) as server:
        yield server
