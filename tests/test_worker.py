"""`python -m app worker`: the background jobs in a process of their own, no HTTP.

The API may run with `BACKGROUND_JOBS_ENABLED=false`; the worker then does the durable work
(here: CRM delivery of stored leads) and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.crypto import TokenCipher
from app.main import with_emulator
from app.runtime import background_jobs, open_runtime
from tests.conftest import REPO_ROOT, make_settings
from tests.crm_receiver import CrmReceiver, serve
from tests.test_leads_delivery import CRM_SECRET, seed


@pytest.fixture
def receiver() -> Iterator[CrmReceiver]:
    with serve(CrmReceiver(secret=CRM_SECRET)) as running:
        yield running


@pytest.fixture
def settings(database_url: str, receiver: CrmReceiver) -> Settings:
    return make_settings(
        database_url=database_url,
        crm_leads_webhook_url=receiver.url,
        crm_webhook_secret=CRM_SECRET,
    )


def _worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CRM_", "DATABASE_", "APP_ENV", "TIKTOK_", "LEADGEN_"))
    }
    environment.update(
        APP_ENV="test",
        DATABASE_URL=settings.database_url,
        CRM_LEADS_WEBHOOK_URL=settings.crm_leads_webhook_url or "",
        CRM_WEBHOOK_SECRET=CRM_SECRET,
        CRM_DELIVERY_INTERVAL_SECONDS="0.1",
        API_BASE_URL="http://127.0.0.1:9",  # nothing serves it: the worker needs no API
    )
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            cwd=REPO_ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def test_the_worker_process_delivers_stored_leads_and_stops_on_sigterm(
    receiver: CrmReceiver,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
) -> None:
    delivery_ids = await seed(sessionmaker, settings, 5)
    log = tmp_path / "worker.log"
    worker = _worker(settings, log)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if len(receiver.ids()) == len(delivery_ids):
                break
            await asyncio.sleep(0.1)
        assert len(receiver.ids()) == len(delivery_ids)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            code = worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()  # never leave a stray worker behind
            worker.wait(10)
            raise
    assert code == 0, log.read_text()[-3000:]
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    (started,) = [line for line in lines if line["message"] == "worker started"]
    assert {"token_refresh", "webhook_sweep", "lead_attach", "crm_delivery"} <= set(started["jobs"])
    assert not [line for line in lines if line["level"] == "error"]


async def test_every_configured_upstream_contributes_its_jobs(settings: Settings) -> None:

    full = with_emulator(settings)
    cipher = TokenCipher(full.integration_encryption_key.get_secret_value())
    async with open_runtime(full, cipher) as runtime:
        names = [job.name for job in background_jobs(runtime)]
    assert names == [
        "token_refresh",
        "webhook_sweep",
        "lead_attach",
        "event_sequencer",
        "profile_sync",
        "lead_backfill",
        "lead_reconciliation",
        "lead_subscription_check",
        "crm_delivery",
    ]
    bare = make_settings(database_url=settings.database_url)
    async with open_runtime(bare, cipher) as runtime:
        assert [job.name for job in background_jobs(runtime)] == [
            "token_refresh",
            "webhook_sweep",
            "lead_attach",
            "event_sequencer",
        ]
