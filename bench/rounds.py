"""B1 (signed webhook ingest), B2 (reads) and their baselines: one round of load runs.

A round runs every load once, baselines beside the figures they divide, so a burst of noise
from the rest of the machine hits both sides of a ratio alike. Before each run every server
is left to go idle (the service processes webhooks after answering them; that work belongs
to the run that caused it, not the next one).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench import db, flows, load
from bench.emulator import CLIENT_KEY, CLIENT_SECRET
from bench.procs import Server, wait_idle
from bench.stack import Stack

WEBHOOK_PATH = "/api/integrations/webhooks/tiktok/"
# The fields the service asks TikTok for on video/list (app/tiktok/schemas.py VIDEO_FIELDS),
# so the direct call asks the emulator for exactly the same work.
VIDEO_FIELDS = (
    "id,create_time,cover_image_url,share_url,video_description,duration,height,width,title,"
    "embed_html,embed_link,like_count,comment_count,share_count,view_count,is_aigc"
)
# Starting guesses of the highest rate per route, to size each run's pool of unique bodies
# (at least twice the last rate measured; a run that exhausts its pool is flagged).
POOL_RATE_GUESS = {"limit": 6_000.0, "service": 2_000.0}
B2_COMPANY = "bench-reads"
B2_PENDING_ACCOUNTS = 9


@dataclass
class Reads:
    """What B2 reads: a company with one connected account (fresh profile) among ten."""

    account_id: str
    headers: dict[str, str]
    direct_token: str


async def prepare_reads(stack: Stack) -> Reads:
    async with (
        httpx.AsyncClient(base_url=stack.service_pg.url, timeout=flows.TIMEOUT) as api,
        httpx.AsyncClient(base_url=stack.emulator.url, timeout=flows.TIMEOUT) as emulator,
    ):
        open_id = (await flows.emulator_users(emulator))[0]
        account_id = await flows.connect_tiktok(api, emulator, B2_COMPANY, open_id)
        # The connect stores what TikTok said but not as a sync: one sync makes it fresh.
        synced = await api.post(
            f"{flows.ACCOUNTS}/{account_id}/sync/", headers=flows.auth(B2_COMPANY)
        )
        synced.raise_for_status()
        for _ in range(B2_PENDING_ACCOUNTS):
            await flows.create_account(api, B2_COMPANY)
        token = await flows.emulator_access_token(emulator, open_id)
    return Reads(account_id, flows.auth(B2_COMPANY), token)


class Round:
    def __init__(self, stack: Stack, reads: Reads, *, connections: int, window: int, drain: int):
        self.stack = stack
        self.reads = reads
        self.connections = connections
        self.window = window
        self.drain = drain
        self.peak: dict[str, float] = {}  # per route: the rate to size its next pool for

    async def _load(self, label: str, server: Server, path: str, **options: Any) -> load.Run:
        started = time.monotonic()
        await asyncio.to_thread(wait_idle, self.stack.under_test())
        settled = time.monotonic()
        options.setdefault("connections", self.connections)
        options.setdefault("window", self.window)
        run = await asyncio.to_thread(load.run, label, server.url + path, server=server, **options)
        print(
            f"  {label}: {run.rps:,.0f} req/s, p99 {run.p99_ms:,.0f} ms "
            f"(settled in {settled - started:.1f} s, ran {time.monotonic() - settled:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
        return run

    async def _ingest(
        self,
        label: str,
        kind: str,
        server: Server,
        path: str,
        database: str,
        table: str,
        *,
        worker: Server | None = None,
    ) -> load.Run:
        """Signed POSTs, each body unique; then rows stored against 200s answered. With a
        `worker` (which applies what the server stored), its CPU per request too, counted
        until it is idle again."""
        pool = self.stack.workdir / f"{label}.pool"
        rate = self.peak.get(label, POOL_RATE_GUESS[kind])
        count = int(1.5 * rate * self.window) + 2 * self.connections
        await asyncio.to_thread(
            load.write_pool, pool, CLIENT_SECRET, CLIENT_KEY, count, f"{label}.{time.time_ns()}"
        )
        before = await db.count_rows(database, table)
        worker_cpu = worker.cpu_seconds() if worker is not None else 0.0
        run = await self._load(label, server, path, pool=pool, drain=self.drain)
        pool.unlink()
        run.extra["rows_stored"] = await db.count_rows(database, table) - before
        if worker is not None:
            await asyncio.to_thread(wait_idle, [worker], timeout=60.0)
            spent = worker.cpu_seconds() - worker_cpu
            run.extra["worker_cpu_ms_per_request"] = round(1000 * spent / max(run.ok, 1), 3)
        self.peak[label] = max(POOL_RATE_GUESS[kind], 2 * run.rps)
        return run

    async def _profile(self) -> load.Run:
        """The stored profile; TikTok's count of profile reads proves none went upstream."""
        async with httpx.AsyncClient(base_url=self.stack.emulator.url) as emulator:
            before = (await emulator.get("/_control/stats")).json()["user_info"]
            run = await self._load(
                "b2_profile",
                self.stack.service_pg,
                f"{flows.ACCOUNTS}/{self.reads.account_id}/tiktok-profile/",
                headers=self.reads.headers,
            )
            run.extra["upstream_calls"] = (await emulator.get("/_control/stats")).json()[
                "user_info"
            ] - before
        return run

    async def run(self) -> dict[str, load.Run]:
        stack, reads = self.stack, self.reads
        runs = [
            await self._load("bare", stack.bare, "/bare"),
            await self._ingest(
                "limit_pg", "limit", stack.bare, "/limit", stack.pg_limit_dsn, db.LIMIT_TABLE
            ),
            await self._ingest(
                "b1_pg",
                "service",
                stack.service_pg,
                WEBHOOK_PATH,
                stack.pg_service_dsn,
                db.WEBHOOK_EVENTS_TABLE,
            ),
            await self._ingest(
                "b1_pg_worker",
                "service",
                stack.service_pg_api,
                WEBHOOK_PATH,
                stack.pg_split_dsn,
                db.WEBHOOK_EVENTS_TABLE,
                worker=stack.worker_pg,
            ),
            await self._ingest(
                "limit_sqlite",
                "limit",
                stack.limit_sqlite,
                "/limit",
                str(stack.sqlite_limit_path),
                db.LIMIT_TABLE,
            ),
            await self._ingest(
                "b1_sqlite",
                "service",
                stack.service_sqlite,
                WEBHOOK_PATH,
                str(stack.sqlite_service_path),
                db.WEBHOOK_EVENTS_TABLE,
            ),
            await self._load(
                "b2_accounts", stack.service_pg, f"{flows.ACCOUNTS}/", headers=reads.headers
            ),
            await self._load("read_limit", stack.bare, "/read-limit", headers=reads.headers),
            await self._profile(),
        ]
        # Video list: throughput at full concurrency, then one connection for the latency
        # the service adds to each call (at 50 connections both sides queue at the emulator).
        alone = min(self.window, 3)  # a latency, not a rate: a shorter window suffices
        for connections, suffix, window in (
            (self.connections, "", self.window),
            (1, "_1conn", alone),
        ):
            runs.append(
                await self._load(
                    f"b2_videos{suffix}",
                    stack.service_pg,
                    f"{flows.ACCOUNTS}/{reads.account_id}/tiktok-videos/",
                    headers=reads.headers,
                    connections=connections,
                    window=window,
                )
            )
            runs.append(
                await self._load(
                    f"videos_direct{suffix}",
                    stack.emulator,
                    f"/v2/video/list/?fields={VIDEO_FIELDS}",
                    headers={"Authorization": f"Bearer {reads.direct_token}"},
                    method="POST",
                    body=json.dumps({"max_count": 20}),
                    connections=connections,
                    window=window,
                )
            )
        return {run.label: run for run in runs}
