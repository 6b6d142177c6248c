"""Sending one call to TikTok: the attempt loop both upstream clients share.

Owns the retry rules, the backoff, the error for a request that got no answer, the log line of
each attempt and the validation of a payload into a schema. The clients own what differs: the
URLs, the headers (credentials included), and how a response is read (`read` classifies it
into a result and its log id, or raises the `TikTokError` it means).

The rules: a call marked `Retry.IDEMPOTENT` is retried on network errors, timeouts and
transient upstream errors (5xx and their in-body equivalents); a `Retry.NEVER_SENT_ONLY` call
(token grants, anything that creates) only when the request provably never left, because
TikTok may already have acted on it. Rate limits and invalid answers are never retried here.
Between attempts it waits the service's one backoff (`app.core.retry`: exponential, full
jitter, capped at `MAX_BACKOFF_SECONDS`). Idempotent calls share one overall deadline
(`TIKTOK_READ_DEADLINE_SECONDS`): no attempt runs past it and no retry starts whose longest
backoff could reach it.
Nothing logged or raised holds a URL, a token or a secret: the URL may carry the app secret.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum, auto
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from app.core.metrics import observe_tiktok_call
from app.core.retry import backoff_ceiling, backoff_seconds
from app.tiktok.errors import TikTokError, TikTokInvalidResponse, TikTokUnavailable

USER_AGENT = "tiktok-integration/0.1 (+https://developers.tiktok.com)"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# The longest wait between two attempts of one call; half the default read deadline.
MAX_BACKOFF_SECONDS = 5.0

# Raised before any byte of the request reached TikTok, so even a single-use call may retry.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

CallT = TypeVar("CallT", bound=StrEnum)
ResultT = TypeVar("ResultT")
ModelT = TypeVar("ModelT", bound=BaseModel)


class Retry(Enum):
    IDEMPOTENT = auto()  # reads, revokes, unsubscribe: network errors, timeouts and 5xx
    NEVER_SENT_ONLY = auto()  # token grants and creations: only when the request never left


@dataclass(frozen=True, slots=True)
class Transport:
    """One client's HTTP connection pool, its retry budget and its log identity.

    `backoff_seconds` is the backoff's base: the longest wait after the first failed attempt.

    `service` names the upstream in error messages ("TikTok"); `log_message` is the log line
    of a successful attempt, a failed one adds " failed".
    """

    http: httpx.AsyncClient
    owns_http: bool
    max_attempts: int
    backoff_seconds: float
    logger: logging.Logger
    log_message: str
    service: str
    # Idempotent calls (reads) give up once this long has passed since the first attempt,
    # retries and backoff included, so a caller never waits attempts times timeout.
    read_deadline_seconds: float | None = None

    @classmethod
    def open(
        cls,
        http: httpx.AsyncClient | None,
        *,
        max_attempts: int,
        backoff_seconds: float,
        logger: logging.Logger,
        log_message: str,
        service: str,
        read_deadline_seconds: float | None = None,
    ) -> Transport:
        """Over `http`, else over a pool of its own that `aclose` closes."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        return cls(
            http=http
            or httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, headers={"User-Agent": USER_AGENT}),
            owns_http=http is None,
            max_attempts=max_attempts,
            backoff_seconds=backoff_seconds,
            logger=logger,
            log_message=log_message,
            service=service,
            read_deadline_seconds=read_deadline_seconds,
        )

    async def aclose(self) -> None:
        # A client passed in belongs to whoever created it (the lifespan, a test).
        if self.owns_http:
            await self.http.aclose()

    async def send(
        self,
        call: CallT,
        method: str,
        url: str,
        *,
        read: Callable[[CallT, httpx.Response], tuple[ResultT, str | None]],
        retry: Retry,
        headers: dict[str, str],
        params: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        http_timeout: httpx.Timeout | None = None,
    ) -> ResultT:
        """`read`'s result for the first attempt that succeeds, else the last error (raised).

        `http_timeout`: of each attempt, instead of the HTTP client's (token grants wait longer).
        """
        attempt = 0
        deadline = (
            time.monotonic() + self.read_deadline_seconds
            if retry is Retry.IDEMPOTENT and self.read_deadline_seconds is not None
            else None
        )
        while True:
            attempt += 1
            can_retry = attempt < self.max_attempts
            started = time.perf_counter()
            try:
                async with asyncio.timeout_at(_loop_time_of(deadline)):
                    response = await self.http.request(
                        method,
                        url,
                        params=params,
                        data=form,
                        json=json_body,
                        headers=headers,
                        timeout=http_timeout or self.http.timeout,
                    )
            except (httpx.RequestError, TimeoutError) as exc:
                error = (
                    transport_error(exc, self.service)
                    if isinstance(exc, httpx.RequestError)
                    else TikTokUnavailable(f"{self.service} did not answer in time.")
                )
                self._log(call, attempt, started, None, error)
                if (
                    can_retry
                    and isinstance(exc, httpx.RequestError)
                    and (retry is Retry.IDEMPOTENT or isinstance(exc, NEVER_SENT))
                    and await self._sleep_before_retry(attempt, deadline)
                ):
                    continue
                raise error from exc
            try:
                result, log_id = read(call, response)
            except TikTokError as error:
                self._log(call, attempt, started, response.status_code, error)
                if (
                    can_retry
                    and retry is Retry.IDEMPOTENT
                    and is_transient(error)
                    and await self._sleep_before_retry(attempt, deadline)
                ):
                    continue
                raise
            self._log(call, attempt, started, response.status_code, None, log_id)
            return result

    async def _sleep_before_retry(self, attempt: int, deadline: float | None) -> bool:
        """Back off before the next attempt; False (no sleep) when the deadline could pass.

        The check takes the backoff's ceiling, not this draw of it: whether a call near its
        deadline retries does not depend on the jitter."""
        base, cap = self.backoff_seconds, MAX_BACKOFF_SECONDS
        if (
            deadline is not None
            and time.monotonic() + backoff_ceiling(attempt, base, cap) >= deadline
        ):
            return False
        await asyncio.sleep(backoff_seconds(attempt, base, cap))
        return True

    def _log(
        self,
        call: StrEnum,
        attempt: int,
        started: float,
        status: int | None,
        error: TikTokError | None,
        log_id: str | None = None,
    ) -> None:
        """Logs an attempt, and counts it in `/metrics` (by endpoint and outcome)."""
        duration = time.perf_counter() - started
        observe_tiktok_call(call.value, error.code if error else "ok", duration)
        fields: dict[str, Any] = {
            "endpoint": call.value,
            "attempt": attempt,
            "http_status": status,
            "duration_ms": round(duration * 1000, 1),
            "log_id": error.log_id if error else log_id,
        }
        if error is None:
            self.logger.info(self.log_message, extra=fields)
        else:
            fields |= {"error": error.code, "tiktok_code": error.tiktok_code}
            self.logger.warning(f"{self.log_message} failed", extra=fields)


def _loop_time_of(deadline: float | None) -> float | None:
    """A `time.monotonic()` deadline on the running loop's clock (`asyncio.timeout_at`)."""
    if deadline is None:
        return None
    return asyncio.get_running_loop().time() + (deadline - time.monotonic())


def token_timeout(seconds: float | None) -> httpx.Timeout | None:
    """The timeout of a token grant (None: the HTTP client's). Connecting stays short: a
    request that never connected provably never left, and is retried."""
    if seconds is None:
        return None
    return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_TIMEOUT.connect or seconds))


def is_transient(error: TikTokError) -> bool:
    # A garbage 200 is not fixed by asking again a moment later; 4xx and 429 are final here.
    return isinstance(error, TikTokUnavailable) and not isinstance(error, TikTokInvalidResponse)


def transport_error(exc: httpx.RequestError, service: str) -> TikTokUnavailable:
    # The message names the exception type only: the URL may carry the app secret.
    if isinstance(exc, httpx.TimeoutException):
        return TikTokUnavailable(f"{service} did not answer in time.")
    return TikTokUnavailable(f"Could not reach {service} ({type(exc).__name__}).")


def parse_model(
    model: type[ModelT], data: object, *, log_id: str | None, root: str = "body"
) -> ModelT:
    """`data` validated into `model`, else `TikTokInvalidResponse` (raised).

    `root` names the top of `data` in the error, for a problem with the whole payload.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Locations and error types only: the input may hold tokens.
        problems = ", ".join(
            f"{'.'.join(map(str, error['loc'])) or root}: {error['type']}"
            for error in exc.errors()[:5]
        )
        raise TikTokInvalidResponse(
            f"TikTok's answer has an unexpected shape ({problems}).", log_id=log_id
        ) from exc
