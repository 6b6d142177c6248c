"""Periodic background jobs, run by the API's lifespan or by `python -m app worker`.

Each job runs `run_once` every `interval` seconds (with jitter so replicas spread out), and
a failing run is logged, never fatal. Work that must happen once across replicas is made
safe by the job itself (row locks, `SKIP LOCKED`), not by this runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.core.metrics import JOB_DURATION, JOB_FAILURES, JOB_RUNS

logger = logging.getLogger("app.jobs")


class Wakeup:
    """ "There is work now": set by whoever made some (a request that stored a webhook, a
    pass that queued deliveries), awaited by the job of this process that does it."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, seconds: float, *, gather: float = 0.0) -> None:
        """Until notified or `seconds` have passed, then `gather` seconds more for the work
        that follows; clears the signal for the next wait."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        if gather:
            await asyncio.sleep(gather)
        self._event.clear()


@dataclass
class PeriodicJob:
    name: str
    interval: float
    run_once: Callable[[], Awaitable[object]]
    jitter: float = 0.1
    # Woken early: the next run starts when this is notified, or after `interval` at most.
    wakeup: Wakeup | None = None

    async def run_forever(self) -> None:
        failures = JOB_FAILURES.labels(self.name)  # exported from the start, at 0
        while True:
            started = time.perf_counter()
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                failures.inc()
                logger.exception("background job failed", extra={"job": self.name})
            JOB_RUNS.labels(self.name).inc()
            JOB_DURATION.labels(self.name).observe(time.perf_counter() - started)
            spread = self.interval * self.jitter
            pause = self.interval + random.uniform(-spread, spread)  # noqa: S311
            if self.wakeup is not None:
                await self.wakeup.wait(pause)
            else:
                await asyncio.sleep(pause)


class JobSupervisor:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []
        self.names: list[str] = []

    def start(self, job: PeriodicJob) -> None:
        self._tasks.append(asyncio.create_task(job.run_forever(), name=f"job:{job.name}"))
        self.names.append(job.name)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
