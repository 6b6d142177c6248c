"""Periodic background jobs, run by the API's lifespan or by `python -m app worker`.

Each job runs `run_once` every `interval` seconds (with jitter so replicas spread out), and
a failing run is logged, never fatal. Work that must happen once across replicas is made
safe by the job itself (row locks, `SKIP LOCKED`), not by this runner.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

logger = logging.getLogger("app.jobs")


@dataclass
class PeriodicJob:
    name: str
    interval: float
    run_once: Callable[[], Awaitable[object]]
    jitter: float = 0.1

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("background job failed", extra={"job": self.name})
            spread = self.interval * self.jitter
            await asyncio.sleep(self.interval + random.uniform(-spread, spread))  # noqa: S311


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
