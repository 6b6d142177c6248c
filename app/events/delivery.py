"""Pushing events to the CRM from the outbox (`crm_lead_deliveries`, one row per event,
written with it by `app.events.outbox`; every event type, not only leads'): at least once,
across crashes and replicas.

The outbox is a durable queue (`app.core.queue`, declared as `repository.DELIVERIES`). One
pass: claim due deliveries in a short transaction (status `delivering` with a lease, the
attempt counted; committed), POST them concurrently with Standard Webhooks headers, then
record the batch's outcomes in one transaction (the delivered ones in one UPDATE), each
fenced by its attempt and lease. A worker that dies mid-request leaves its deliveries
`delivering`; when the lease lapses any worker claims them again, so the CRM may receive a
delivery twice and dedupes on `webhook-id`.

Each attempt is signed with every configured secret (Standard Webhooks: one `v1,` signature
per secret), so the CRM can rotate its secret without a window of refused deliveries.

Outcomes: 2xx delivered; 408, 425, 429, 5xx, network errors and timeouts are retried after
the CRM's `Retry-After`, else after the next step of the retry schedule (`app.core.retry`:
Standard Webhooks' 5 s ... 24 h with jitter; or the deprecated exponential backoff when its
base or cap is configured), until `CRM_DELIVERY_MAX_AGE_HOURS` after the first attempt, then
dead; any other status is permanent: dead at once. Dead deliveries are listed, replayed and
recovered in bulk through the API (`app.events.endpoints`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import signal
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker, session_scope, utcnow
from app.core.jobs import PeriodicJob, Wakeup
from app.core.metrics import LEAD_ACKNOWLEDGED_AGE
from app.core.queue import Claim, Fate
from app.core.retry import (
    STANDARD_WEBHOOKS_SCHEDULE,
    backoff_seconds,
    retry_after_seconds,
    scheduled_seconds,
)
from app.events import repository, standard_webhooks

logger = logging.getLogger("app.events.delivery")

RETRYABLE_STATUSES = frozenset({408, 425, 429})
MAX_ERROR_LENGTH = 500
MAX_RESPONSE_EXCERPT = 200
USER_AGENT = "tiktok-integration-leads/0.1"


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Literal["delivered", "retry", "dead"]
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None


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


def _observe_lead_acknowledged(payload: dict[str, Any], now: datetime) -> None:
    """A lead.created the CRM acknowledged: its age since the submission at TikTok."""
    if payload.get("type") != "lead.created":
        return
    submitted = payload.get("data", {}).get("submitted_at")
    if not isinstance(submitted, str):
        return
    try:
        at = datetime.fromisoformat(submitted)
    except ValueError:
        return
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    LEAD_ACKNOWLEDGED_AGE.observe(max(0.0, (now - at).total_seconds()))


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
        if not settings.crm_url or not settings.crm_webhook_secrets:
            raise ValueError("CRM delivery needs CRM_WEBHOOK_URL and CRM_WEBHOOK_SECRET")
        self._sessionmaker = sessionmaker
        self._http = http
        self._settings = settings
        self._url = settings.crm_url
        self._secrets = settings.crm_webhook_secrets
        self._schedule = tuple(settings.crm_delivery_retry_schedule) or STANDARD_WEBHOOKS_SCHEDULE
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._clock = clock

    def job(self, wakeup: Wakeup | None = None) -> PeriodicJob:
        """Every CRM_DELIVERY_INTERVAL_SECONDS, or as soon as `wakeup` says deliveries were
        queued (the inbox job, after it announced leads)."""
        return PeriodicJob(
            "crm_delivery",
            self._settings.crm_delivery_interval_seconds,
            self.drain,
            wakeup=wakeup,
        )

    async def run_once(self) -> int:
        """Claim one batch of due deliveries, attempt each (concurrently), then record every
        outcome in one transaction; how many were attempted."""
        now = self._clock()
        lease_until = now + timedelta(seconds=self._settings.crm_delivery_lease_seconds)
        async with session_scope(self._sessionmaker) as session:
            claimed = await repository.claim_due(
                session, now, lease_until, self._settings.crm_delivery_batch_size
            )
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self._attempt(claim) for claim in claimed))
        attempted = [
            (claim, outcome)
            for claim, outcome in zip(claimed, outcomes, strict=True)
            if outcome is not None
        ]
        try:
            await self._settle_many(attempted)
        except Exception:
            # Nothing recorded: the deliveries stay `delivering` and are attempted again when
            # their lease lapses (the CRM dedupes on `webhook-id`).
            logger.exception(
                "CRM delivery outcomes not recorded",
                extra={"delivery_ids": [str(claim.id) for claim, _ in attempted]},
            )
        return len(claimed)

    async def drain(self) -> int:
        """Passes until one claims less than a full batch: everything due now."""
        total = 0
        while True:
            attempted = await self.run_once()
            total += attempted
            if attempted < self._settings.crm_delivery_batch_size:
                return total

    async def _attempt(self, claim: Claim) -> Outcome | None:
        """The outcome of one POST, or None when the attempt itself failed unexpectedly."""
        try:
            return await self._send(claim)
        except Exception:
            # The delivery stays `delivering`; when its lease lapses it is attempted again.
            logger.exception("CRM delivery attempt failed", extra={"delivery_id": str(claim.id)})
            return None

    async def _send(self, claim: Claim) -> Outcome:
        payload: dict[str, Any] = claim.row["payload"]
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            **standard_webhooks.headers(self._secrets, str(claim.id), int(time.time()), body),
        }
        try:
            # A total bound (httpx's are per phase): the attempt must end inside its lease.
            async with asyncio.timeout(self._settings.crm_delivery_timeout_seconds):
                response = await self._http.post(self._url, content=body, headers=headers)
        except (httpx.HTTPError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
            return Outcome("retry", error=error[:MAX_ERROR_LENGTH])
        return classify(response)

    async def _settle_many(self, attempts: Sequence[tuple[Claim, Outcome]]) -> None:
        """Record the outcomes of a batch in one transaction, each only if its delivery is
        still this attempt's (not claimed again after a lapsed lease, not replayed): the
        delivered ones in one fenced UPDATE per status code, a retry or a dead letter in
        one each (rare). Logged once committed."""
        if not attempts:
            return
        queue = repository.DELIVERIES
        now = self._clock()
        delivered: dict[int | None, list[Claim]] = defaultdict(list)
        others: list[tuple[Claim, Outcome, str, float]] = []
        for claim, outcome in attempts:
            kind: str = outcome.kind
            delay = 0.0
            if kind == "retry" and self._expired(claim, now):
                kind = "dead"
            if kind == "delivered":
                delivered[outcome.status_code].append(claim)
                continue
            if kind == "retry":
                delay = self._delay(claim.attempt, outcome)
            others.append((claim, outcome, kind, delay))
        settled_ids: set[Any] = set()
        async with session_scope(self._sessionmaker) as session:
            for status_code, claims in delivered.items():
                values = {"last_status_code": status_code, "last_error": None, "delivered_at": now}
                rows = await queue.done(session, claims, values=values)
                settled_ids.update(row["id"] for row in rows)
            for claim, outcome, kind, delay in others:
                result = {"last_status_code": outcome.status_code, "last_error": outcome.error}
                if kind == "dead":
                    settled = await queue.dead(session, claim, values=result) is not None
                else:
                    at = now + timedelta(seconds=delay)
                    fate = await queue.retry(session, claim, at=at, values=result)
                    settled = fate is Fate.retried
                if settled:
                    settled_ids.add(claim.id)
        for status_code, claims in delivered.items():
            for claim in claims:
                if claim.id in settled_ids:
                    _observe_lead_acknowledged(claim.row["payload"], now)
                else:
                    self._log_lost(claim, status_code)
        for claim, outcome, kind, delay in others:
            if claim.id not in settled_ids:
                self._log_lost(claim, outcome.status_code)
                continue
            fields = {
                "delivery_id": str(claim.id),
                "attempts": claim.attempt,
                "status_code": outcome.status_code,
            }
            if kind == "dead":
                reason = "permanent" if outcome.kind == "dead" else "retries exhausted"
                logger.error("CRM delivery is dead", extra={**fields, "reason": reason})
            else:
                extra = {**fields, "delay_seconds": round(delay, 3)}
                logger.info("CRM delivery will be retried", extra=extra)

    @staticmethod
    def _log_lost(claim: Claim, status_code: int | None) -> None:
        fields = {
            "delivery_id": str(claim.id),
            "attempts": claim.attempt,
            "status_code": status_code,
        }
        logger.warning("CRM delivery outcome dropped: the lease was lost", extra=fields)

    def _expired(self, claim: Claim, now: datetime) -> bool:
        """Past `CRM_DELIVERY_MAX_AGE_HOURS` since the first attempt: retries end."""
        first: datetime = claim.row["first_attempt_at"] or now
        return now - first >= self._settings.crm_delivery_max_age

    def _delay(self, attempt: int, outcome: Outcome) -> float:
        """The CRM's `Retry-After` (capped at the schedule's longest step, or the backoff's
        cap), else the schedule's step for this attempt (or the exponential backoff)."""
        settings = self._settings
        if settings.crm_exponential_backoff:
            cap = settings.crm_delivery_backoff_cap_seconds
            if outcome.retry_after is not None:
                return min(outcome.retry_after, cap)
            base = settings.crm_delivery_backoff_base_seconds
            return backoff_seconds(attempt, base, cap, self._rng)
        if outcome.retry_after is not None:
            return min(outcome.retry_after, max(self._schedule))
        return scheduled_seconds(attempt, self._schedule, self._rng)


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
