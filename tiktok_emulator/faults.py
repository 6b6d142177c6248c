"""Injected faults and the Display API's sliding-window rate limits."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

Endpoint = Literal["token", "revoke", "user_info", "video_list", "video_query"]
FaultTarget = Literal["token", "revoke", "user_info", "video_list", "video_query", "*"]
FaultKind = Literal["http_500", "http_503", "latency", "error_body", "garbage", "http_429"]

RATE_WINDOW_SECONDS = 60.0


class _Counted(Protocol):
    @property
    def endpoint(self) -> str: ...

    remaining: int


_F = TypeVar("_F", bound=_Counted)


def take_next(
    faults: list[_F], endpoint: str, *, eligible: Callable[[_F], bool] = lambda _: True
) -> _F | None:
    """The first eligible fault for `endpoint` (or "*"), used once; dropped when used up."""
    for fault in faults:
        if eligible(fault) and fault.endpoint in (endpoint, "*"):
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.remove(fault)
            return fault
    return None


@dataclass
class Fault:
    endpoint: FaultTarget
    kind: FaultKind
    remaining: int
    latency_ms: int = 0
    error: str | None = None


@dataclass
class FaultQueue:
    """Faults in arrival order; each affects the next `remaining` requests it matches."""

    faults: list[Fault] = field(default_factory=list)

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> int:
        cleared = len(self.faults)
        self.faults.clear()
        return cleared

    def take(self, endpoint: Endpoint) -> Fault | None:
        return take_next(self.faults, endpoint)


@dataclass
class RateLimiter:
    """At most `limit` accepted requests per endpoint in any 60 s window."""

    limit: int
    windows: dict[Endpoint, deque[float]] = field(default_factory=dict)

    def allow(self, endpoint: Endpoint, now: float) -> bool:
        window = self.windows.setdefault(endpoint, deque())
        while window and window[0] <= now - RATE_WINDOW_SECONDS:
            window.popleft()
        if len(window) >= self.limit:
            return False
        window.append(now)
        return True
