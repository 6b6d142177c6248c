"""One refresh, however many readers: two real service processes (uvicorn, each its own
port and engine) on one PostgreSQL database, TikTok played by ONE emulator in a third
process. An account connected through the emulator's OAuth has an expired access token;
50 concurrent reads (profile with `refresh=true` and videos, both needing a live token),
split across the two processes, all succeed, and the emulator sees exactly one refresh.

TikTok rotates refresh tokens, so a second refresh would use a dead refresh token and lose
the account. Across processes, only the database row lock keeps it to one.

PostgreSQL only: several replicas over one database is how the service scales, and that
database is PostgreSQL. SQLite is an embedded single-writer file for one process; two
processes on it would prove nothing about production.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from sqlalchemy import update

from app.accounts.models import IntegrationAccount
from app.core.db import create_engine, utcnow
from tests.conftest import ENCRYPTION_KEY, JWT_SECRET, SERVICE_KEY, make_settings
from tests.e2e.flow import ACCOUNTS, ConsentForm
from tests.live_server import delete_all_rows
from tests.reliability.emulator_process import CLIENT_KEY, CLIENT_SECRET
from tests.reliability.support import (
    bearer,
    clean_environment,
    free_port,
    json_of,
    process,
    wait_until_serving,
)

READS = 50
COMPANY = "rel-refresh"
TIMEOUT = httpx.Timeout(30.0)
# The refresh is held this long at the emulator, so every reader arrives while it runs.
REFRESH_LATENCY_MS = 800
# The emulator's access tokens live a day; this moves its clock past the one we hold.
PAST_EXPIRY_SECONDS = 86400 + 60


def service_environment(database_url: str, url: str, emulator: str) -> dict[str, str]:
    return clean_environment(
        APP_ENV="test",
        DATABASE_URL=database_url,
        API_BASE_URL=url,
        FRONTEND_URL="http://frontend.test",
        SECRET_KEY="reliability-secret-key-0123456789",
        AUTH_JWT_SECRET=JWT_SECRET,
        SERVICE_API_KEYS=f"crm-backend:{SERVICE_KEY}",
        INTEGRATION_ENCRYPTION_KEY=ENCRYPTION_KEY,
        TIKTOK_CLIENT_ID=CLIENT_KEY,
        TIKTOK_CLIENT_SECRET=CLIENT_SECRET,
        TIKTOK_AUTH_BASE_URL=emulator,
        TIKTOK_API_BASE_URL=emulator,
        # Only the reads refresh: the background refresher would race them to it.
        BACKGROUND_JOBS_ENABLED="false",
        LOG_LEVEL="WARNING",
    )


async def connect(service: str, emulator: str) -> str:
    """Create an account at `service` and connect it through the emulator's consent page."""
    async with (
        httpx.AsyncClient(base_url=service, headers=bearer(COMPANY), timeout=TIMEOUT) as api,
        httpx.AsyncClient(timeout=TIMEOUT) as browser,
    ):
        created = json_of(await api.post(f"{ACCOUNTS}/", json={"platform": "tiktok", "name": "R"}))
        account_id: str = created["id"]
        started = json_of(await api.post(f"{ACCOUNTS}/{account_id}/connect/"))
        page = await browser.get(started["authorization_url"])
        while page.status_code in (302, 303):  # our first-party hop, then TikTok
            page = await browser.get(urljoin(str(page.url), page.headers["location"]))
        assert page.status_code == 200, page.text
        assert str(page.url).startswith(emulator), page.url
        form = ConsentForm(page.text)
        decided = await browser.post(
            urljoin(str(page.url), form.action), data=form.submission("approve", form.users[0])
        )
        assert decided.status_code == 302, decided.text
        callback = decided.headers["location"]
        assert callback.startswith(service), callback
        landing = await browser.get(callback)
        assert landing.status_code == 302, landing.text
        assert "connected=true" in landing.headers["location"], landing.headers["location"]
    return account_id


async def expire_access_token(database_url: str, account_id: str, emulator: str) -> None:
    """Expired for the service (stored expiry in the past) and dead at TikTok (clock moved)."""
    engine = create_engine(make_settings(database_url=database_url))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(IntegrationAccount)
                .where(IntegrationAccount.id == uuid.UUID(account_id))
                .values(access_token_expires_at=utcnow() - timedelta(minutes=1))
            )
    finally:
        await engine.dispose()
    async with httpx.AsyncClient(base_url=emulator, timeout=TIMEOUT) as http:
        json_of(await http.post("/_control/clock", json={"seconds": PAST_EXPIRY_SECONDS}))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_fifty_reads_across_two_processes_refresh_an_expired_token_once(
    database_url: str, tmp_path: Path
) -> None:
    await delete_all_rows(make_settings(database_url=database_url))
    emulator = f"http://127.0.0.1:{free_port()}"
    services = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    logs = {url: tmp_path / f"{index}.log" for index, url in enumerate([emulator, *services])}
    try:
        with ExitStack() as stack:
            port = emulator.rsplit(":", 1)[1]
            child = stack.enter_context(
                process(
                    [
                        *("-m", "uvicorn", "--factory", "--no-access-log"),
                        *("tests.reliability.emulator_process:emulator", "--port", port),
                    ],
                    logs[emulator],
                    clean_environment(),
                )
            )
            wait_until_serving(f"{emulator}/_control/stats", child, logs[emulator])
            for url in services:
                child = stack.enter_context(
                    process(
                        [
                            *("-m", "uvicorn", "--factory", "--no-access-log"),
                            *("app.main:serve_app", "--port", url.rsplit(":", 1)[1]),
                        ],
                        logs[url],
                        service_environment(database_url, url, emulator),
                    )
                )
                wait_until_serving(f"{url}/healthz", child, logs[url])

            account_id = await connect(services[0], emulator)
            await expire_access_token(database_url, account_id, emulator)
            async with httpx.AsyncClient(base_url=emulator, timeout=TIMEOUT) as tiktok:
                before = json_of(await tiktok.get("/_control/stats"))
                fault = {"endpoint": "token", "kind": "latency", "latency_ms": REFRESH_LATENCY_MS}
                json_of(await tiktok.post("/_control/faults", json=fault))

                profile = f"{ACCOUNTS}/{account_id}/tiktok-profile/?refresh=true"
                videos = f"{ACCOUNTS}/{account_id}/tiktok-videos/?max_count=5"
                # Alternating processes, and per process alternating profile and videos.
                plan = [services[i % 2] + (profile, videos)[(i // 2) % 2] for i in range(READS)]
                async with httpx.AsyncClient(headers=bearer(COMPANY), timeout=TIMEOUT) as crm:
                    answers = await asyncio.wait_for(
                        asyncio.gather(*(crm.get(url) for url in plan)), timeout=60
                    )
                after = json_of(await tiktok.get("/_control/stats"))
    except AssertionError:
        for url, log in logs.items():
            print(f"--- {url}\n{log.read_text()}")
        raise
    finally:
        await delete_all_rows(make_settings(database_url=database_url))

    failed = [(a.request.url, a.status_code, a.text[:200]) for a in answers if a.status_code != 200]
    assert not failed, failed
    served_by = {str(a.request.url).rsplit("/api", 1)[0] for a in answers}
    assert served_by == set(services)
    refreshes = after["token.refresh_token"] - before["token.refresh_token"]
    assert refreshes == 1, (before, after)
    # No read reached TikTok with the dead token (a 401 would be retried, so counted twice):
    # one user/info call per profile read, one video/list call per videos read.
    assert after["user_info"] - before["user_info"] == sum(profile in u for u in plan)
    assert after["video_list"] - before["video_list"] == sum(videos in u for u in plan)
    print(f"\nsingle refresh: {READS} reads on 2 processes, {refreshes} refresh at TikTok")
