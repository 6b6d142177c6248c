"""Trying again later: the one backoff policy and the one `Retry-After` reader.

Every retry in the service waits `backoff_seconds`: exponential in the attempt number, with
full jitter (uniform between 0 and the exponential ceiling, so callers that failed together
spread out instead of retrying in step) and a cap. The TikTok transport waits it between the
attempts of one call; the durable queues (CRM deliveries) reschedule a row by it.

The CRM deliveries wait by a schedule instead: `STANDARD_WEBHOOKS_SCHEDULE`, the Standard
Webhooks retry schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: ~75 h in all,
longer than TikTok's own 72 h of retries), each step with jitter (`scheduled_seconds`).

`retry_after_seconds` reads an upstream's `Retry-After` header, delta-seconds or an HTTP
date, for the CRM's answers and for TikTok's rate limits alike.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Sequence
from datetime import UTC, datetime

# Past this exponent the ceiling is at any cap anyway; keeps 2**n small.
MAX_EXPONENT = 32
_jitter = random.Random()  # noqa: S311 - jitter, not security


def backoff_ceiling(attempt: int, base: float, cap: float) -> float:
    """The longest wait after attempt `attempt` (1 for the first) failed:
    min(cap, base * 2^(attempt - 1))."""
    exponent = min(max(attempt - 1, 0), MAX_EXPONENT)
    return min(cap, base * 2.0**exponent)


def backoff_seconds(
    attempt: int, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Full jitter: uniform between 0 and `backoff_ceiling(attempt, base, cap)`."""
    return (rng or _jitter).uniform(0.0, backoff_ceiling(attempt, base, cap))


# Seconds to wait after attempt n fails (n = 1, 2, ...; the last step repeats).
STANDARD_WEBHOOKS_SCHEDULE: tuple[float, ...] = (
    5.0,
    5 * 60.0,
    30 * 60.0,
    2 * 3600.0,
    5 * 3600.0,
    10 * 3600.0,
    14 * 3600.0,
    20 * 3600.0,
    24 * 3600.0,
)
# A scheduled wait is its step times a uniform factor in [1 - SCHEDULE_JITTER, 1 + ...].
SCHEDULE_JITTER = 0.1


def scheduled_seconds(
    attempt: int,
    schedule: Sequence[float] = STANDARD_WEBHOOKS_SCHEDULE,
    rng: random.Random | None = None,
) -> float:
    """The wait after attempt `attempt` (1 for the first) failed: that step of `schedule`
    (its last step once past its end), with +/- `SCHEDULE_JITTER` jitter so deliveries that
    failed together spread out."""
    if not schedule:
        raise ValueError("an empty retry schedule")
    step = schedule[min(max(attempt, 1), len(schedule)) - 1]
    return step * (rng or _jitter).uniform(1.0 - SCHEDULE_JITTER, 1.0 + SCHEDULE_JITTER)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A `Retry-After` header as seconds from `now`: delta-seconds, or an HTTP date (0 once
    it has passed); None when absent or unreadable, for the caller's own default."""
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
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
