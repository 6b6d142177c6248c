"""B3, the refresh storm: N accounts due at once, two service processes, slow TikTok.

Set-up: a database of its own; two service processes with background jobs on; N Login Kit
accounts connected through the real OAuth flow (tokens issued by the emulator, so each
refresh is a real refresh-token rotation there); then a 100 ms latency on the emulator's
token endpoint (its own `latency` fault, with a count no run reaches). The storm starts
when one UPDATE makes every access token expire now; it ends when none is due any more.

Measured: wall time until all N are refreshed, refresh calls TikTok received (must be N)
and double refreshes (calls beyond one per account; must be 0), plus accounts flagged for
reconnection (a double refresh of a rotated token would flag one).
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from bench import db, flows
from bench.procs import Server
from bench.stack import READY, Stack

SEED_CONCURRENCY = 8
SEED_ATTEMPTS = 3
POLL_SECONDS = 0.25
# After the last account is refreshed, how long to keep watching for late extra calls.
SETTLE_SECONDS = 3.0
REFRESH_AHEAD_SECONDS = 600  # the service's default TOKEN_REFRESH_AHEAD_SECONDS
LATENCY_FAULT_COUNT = 1_000_000


@dataclass
class Storm:
    accounts: int
    processes: int
    upstream_latency_ms: int
    refresh_interval_s: float
    concurrency: int | None  # TOKEN_REFRESH_CONCURRENCY per process; None: the default
    seed_seconds: float
    wall_seconds: float | None  # None: not all refreshed before the timeout
    refreshed: int
    upstream_refresh_calls: int
    double_refreshes: int
    stored_rotations: int
    reauth_required: int
    rate_per_second: float
    rss_mb: list[float]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _refresh_calls(emulator: httpx.AsyncClient) -> int:
    stats = (await emulator.get("/_control/stats")).json()
    return int(stats["token.refresh_token"])


async def _seed(stack: Stack, service: Server, count: int) -> None:
    async with (
        httpx.AsyncClient(base_url=service.url, timeout=flows.TIMEOUT) as api,
        httpx.AsyncClient(base_url=stack.emulator.url, timeout=flows.TIMEOUT) as emulator,
    ):
        users = await flows.emulator_users(emulator)

        async def connect(index: int) -> None:
            # One company per account: a company links a TikTok user once. Seeding is set-up,
            # not a measurement: a connect that failed (a timeout on a loaded machine) is
            # tried again with a fresh account, a few times, before the run gives up.
            for attempt in range(1, SEED_ATTEMPTS + 1):
                try:
                    await flows.connect_tiktok(
                        api, emulator, f"bench-storm-{index}-{attempt}", users[index % 4]
                    )
                    return
                except (RuntimeError, httpx.HTTPError) as exc:
                    if attempt == SEED_ATTEMPTS:
                        raise
                    print(f"  seeding: connect {index} failed ({exc}); again", file=sys.stderr)

        jobs = [lambda i=i: connect(i) for i in range(count)]
        await flows.gather_bounded(jobs, SEED_CONCURRENCY)


async def refresh_storm(
    stack: Stack,
    *,
    accounts: int,
    latency_ms: int,
    interval: float,
    give_up_after: float,
    processes: int = 2,
    concurrency: int | None = None,
) -> Storm:
    """`concurrency`: TOKEN_REFRESH_CONCURRENCY of each process (None: the service's
    default, what the issue's figure is measured with)."""
    dsn = await stack.database()
    await asyncio.to_thread(db.migrate, db.sqlalchemy_url(dsn), stack.workdir)
    settings = {"TOKEN_REFRESH_INTERVAL_SECONDS": str(interval)}
    if concurrency is not None:
        settings["TOKEN_REFRESH_CONCURRENCY"] = str(concurrency)
    services = [
        stack.service(f"storm-{n}", db.sqlalchemy_url(dsn), business=False, extra=settings)
        for n in range(processes)
    ]
    for service in services:
        await asyncio.to_thread(service.wait_ready, READY)
    seed_started = time.monotonic()
    await _seed(stack, services[0], accounts)
    seed_seconds = time.monotonic() - seed_started

    async with httpx.AsyncClient(base_url=stack.emulator.url, timeout=flows.TIMEOUT) as emulator:
        fault = {
            "endpoint": "token",
            "kind": "latency",
            "count": LATENCY_FAULT_COUNT,
            "latency_ms": latency_ms,
        }
        (await emulator.post("/_control/faults", json=fault)).raise_for_status()
        try:
            calls_before = await _refresh_calls(emulator)
            versions_before = (await db.refresh_progress(dsn, REFRESH_AHEAD_SECONDS))["versions"]
            started = time.monotonic()
            due = await db.make_tokens_due(dsn)
            wall: float | None = None
            while time.monotonic() - started < give_up_after:
                progress = await db.refresh_progress(dsn, REFRESH_AHEAD_SECONDS)
                if progress["refreshed"] >= due:
                    wall = time.monotonic() - started
                    break
                await asyncio.sleep(POLL_SECONDS)
            await asyncio.sleep(SETTLE_SECONDS)
            progress = await db.refresh_progress(dsn, REFRESH_AHEAD_SECONDS)
            calls = await _refresh_calls(emulator) - calls_before
        finally:
            await emulator.delete("/_control/faults")
    rss = [service.rss_mb() for service in services]
    for service in services:
        service.stop()
    elapsed = wall if wall is not None else give_up_after
    return Storm(
        accounts=due,
        processes=processes,
        upstream_latency_ms=latency_ms,
        refresh_interval_s=interval,
        concurrency=concurrency,
        seed_seconds=round(seed_seconds, 1),
        wall_seconds=round(wall, 2) if wall is not None else None,
        refreshed=progress["refreshed"],
        upstream_refresh_calls=calls,
        double_refreshes=max(0, calls - progress["refreshed"]),
        stored_rotations=progress["versions"] - versions_before,
        reauth_required=progress["reauth"],
        rate_per_second=round(progress["refreshed"] / elapsed, 2),
        rss_mb=[round(value, 1) for value in rss],
    )
