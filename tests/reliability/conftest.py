"""Fixtures of the reliability suite: the real app under uvicorn with its built-in TikTok
emulator, on each database of `database_url`, with two companies seeded through it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.conftest import make_settings
from tests.live_server import LiveServer, delete_all_rows, serve
from tests.reliability.support import CRM_SECRET, UNREACHABLE_CRM, Seeded, seed_company


@dataclass(frozen=True)
class World:
    server: LiveServer
    a: Seeded  # the company whose data is probed
    b: Seeded  # another company, with data of its own


@pytest.fixture(scope="module")
async def world(database_url: str) -> AsyncIterator[World]:
    """Two companies, each with one of everything that has an id, on a fresh live service.

    Module-scoped: seeding through OAuth, webhooks and jobs takes a second or two, and each
    module's tests only read it or, like the fuzzer, change it deliberately."""
    settings = make_settings(database_url=database_url)
    await delete_all_rows(settings)  # rows another test left would share advertiser ids
    suffix = uuid.uuid4().hex[:8]
    try:
        with serve(
            lambda url: make_settings(
                database_url=database_url,
                api_base_url=url,
                frontend_url=url,
                background_jobs_enabled=False,
                # Deliveries are queued (and listed) but never sent: jobs are off.
                crm_leads_webhook_url=UNREACHABLE_CRM,
                crm_webhook_secret=CRM_SECRET,
            )
        ) as server:
            a = await seed_company(server, f"rel-a-{suffix}", advertiser_index=0)
            b = await seed_company(server, f"rel-b-{suffix}", advertiser_index=1, user_index=1)
            yield World(server, a, b)
    finally:
        await delete_all_rows(settings)
