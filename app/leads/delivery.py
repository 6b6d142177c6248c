"""Pushing lead events to the CRM from the outbox (`crm_lead_deliveries`): at least once,
across crashes and replicas.

One pass: claim due deliveries in a short transaction (`FOR UPDATE SKIP LOCKED`; status
`delivering` with a lease; committed), POST them concurrently with Standard Webhooks
headers, then record each outcome in its own transaction. A worker that dies mid-request
leaves its deliveries `delivering`; when the lease lapses any worker claims them again, so
the CRM may receive a delivery twice and dedupes on `webhook-id`.

Outcomes: 2xx delivered; 408, 425, 429, 5xx, network errors and timeouts are retried with
exponential backoff and full jitter (or after `Retry-After`) until
`CRM_DELIVERY_MAX_AGE_HOURS` after the first attempt, then dead; any other status is
permanent: dead at once. Dead deliveries are listed and replayed through the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import random
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker, session_scope, utcnow
from app.core.jobs import PeriodicJob
from app.leads import repository, standard_webhooks
from app.leads.models import DeliveryStatus

logger = logging.getLogger("app.leads.delivery")

RETRYABLE_STATUSES = frozenset({408, 425, 429})
MAX_ERROR_LENGTH = 500
MAX_RESPONSE_EXCERPT = 200
# Past this exponent the backoff is at its cap anyway; keeps 2**n small.
MAX_BACKOFF_EXPONENT = 32
USER_AGENT = "tiktok-integration-leads/0.1"


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Literal["delivered", "retry", "dead"]
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Full jitter: uniform between 0 and min(cap, base * 2^(attempt - 1))."""
    exponent = min(max(attempt - 1, 0), MAX_BACKOFF_EXPONENT)
    return rng.uniform(0.0, min(cap, base * 2**exponent))


def classify(response: httpx.Response) -> Outcome:
    code = response.status_code
    if 200 <= code < 300:
        return Outcome("delivered", code)
    error = f"HTTP {code}: {response.text[:MAX_RESPONSE_EXCERPT]}".strip()
    if code in RETRYABLE_STATUSES or code >= 500:
        return Outcome(
            "retry", code, error, retry_after_seconds(response.headers.get("retry-after"), utcnow())
        )
    return Outcome("dead", code, error)


def crm_http_client(settings: Settings) -> httpx.AsyncClient:
    """The one client for the CRM: explicit timeouts, no redirects (a webhook URL that
    redirects is misconfigured, and the redirect would drop the POST)."""
    timeout = settings.crm_delivery_timeout_seconds
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )


class CrmDeliveryWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        settings: Settings,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if not settings.crm_leads_webhook_url or not settings.crm_webhook_secret:
            raise ValueError("CRM delivery needs CRM_LEADS_WEBHOOK_URL and CRM_WEBHOOK_SECRET")
        self._sessionmaker = sessionmaker
        self._http = http
        self._settings = settings
        self._url = settings.crm_leads_webhook_url
        self._secret = settings.crm_webhook_secret.get_secret_value()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._clock = clock

    def job(self) -> PeriodicJob:
        return PeriodicJob("crm_delivery", self._settings.crm_delivery_interval_seconds, self.drain)

    async def run_once(self) -> int:
        """Claim one batch of due deliveries and attempt each; how many were attempted."""
        now = self._clock()
        lease_until = now + timedelta(seconds=self._settings.crm_delivery_lease_seconds)
        async with session_scope(self._sessionmaker) as session:
            claimed = await repository.claim_due(
                session, now, lease_until, self._settings.crm_delivery_batch_size
            )
            work = [(delivery.id, delivery.attempts, delivery.payload) for delivery in claimed]
        await asyncio.gather(*(self._deliver(*item) for item in work))
        return len(work)

    async def drain(self) -> int:
        """Passes until one claims less than a full batch: everything due now."""
        total = 0
        while True:
            attempted = await self.run_once()
            total += attempted
            if attempted < self._settings.crm_delivery_batch_size:
                return total

    async def _deliver(self, delivery_id: uuid.UUID, attempt: int, payload: dict[str, Any]) -> None:
        try:
            outcome = await self._send(delivery_id, payload)
            await self._settle(delivery_id, attempt, outcome)
        except Exception:
            # The delivery stays `delivering`; when its lease lapses it is attempted again.
            logger.exception("CRM delivery attempt failed", extra={"delivery_id": str(delivery_id)})

    async def _send(self, delivery_id: uuid.UUID, payload: dict[str, Any]) -> Outcome:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            **standard_webhooks.headers(self._secret, str(delivery_id), int(time.time()), body),
        }
        try:
            # A total bound (httpx's are per phase): the attempt must end inside its lease.
            async with asyncio.timeout(self._settings.crm_delivery_timeout_seconds):
                response = await self._http.post(self._url, content=body, headers=headers)
        except (httpx.HTTPError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
            return Outcome("retry", error=error[:MAX_ERROR_LENGTH])
        return classify(response)

    async def _settle(self, delivery_id: uuid.UUID, attempt: int, outcome: Outcome) -> None:
        settings = self._settings
        async with session_scope(self._sessionmaker) as session:
            delivery = await repository.lock_attempt(session, delivery_id, attempt)
            if delivery is None:
                logger.warning(
                    "CRM delivery outcome dropped: the lease was lost",
                    extra={"delivery_id": str(delivery_id), "attempt": attempt},
                )
                return
            now = self._clock()
            delivery.lease_until = None
            delivery.last_status_code = outcome.status_code
            delivery.last_error = outcome.error
            if outcome.kind == "delivered":
                delivery.status = DeliveryStatus.delivered
                delivery.delivered_at = now
                return
            first = delivery.first_attempt_at or now
            expired = now - first >= timedelta(hours=settings.crm_delivery_max_age_hours)
            if outcome.kind == "dead" or expired:
                delivery.status = DeliveryStatus.dead
                logger.error(
                    "CRM delivery is dead",
                    extra={
                        "delivery_id": str(delivery_id),
                        "attempts": attempt,
                        "status_code": outcome.status_code,
                        "reason": "permanent" if outcome.kind == "dead" else "retries exhausted",
                    },
                )
                return
            cap = settings.crm_delivery_backoff_cap_seconds
            if outcome.retry_after is not None:
                delay = min(outcome.retry_after, cap)
            else:
                delay = backoff_seconds(
                    attempt, settings.crm_delivery_backoff_base_seconds, cap, self._rng
                )
            delivery.status = DeliveryStatus.pending
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            logger.info(
                "CRM delivery will be retried",
                extra={
                    "delivery_id": str(delivery_id),
                    "attempts": attempt,
                    "status_code": outcome.status_code,
                    "delay_seconds": round(delay, 3),
                },
            )


async def run_worker(settings: Settings, *, once: bool = False) -> int:
    """The standalone worker (`python -m app deliver`): until SIGTERM/SIGINT, or one drain
    with `once`. In-flight attempts finish before it exits."""
    engine = create_engine(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with crm_http_client(settings) as http:
            worker = CrmDeliveryWorker(create_sessionmaker(engine), http, settings)
            logger.info("CRM delivery worker started", extra={"once": once})
            if once:
                await worker.drain()
                return 0
            while not stop.is_set():
                try:
                    await worker.drain()
                except Exception:
                    logger.exception("CRM delivery pass failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), settings.crm_delivery_interval_seconds)
            return 0
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await engine.dispose()
