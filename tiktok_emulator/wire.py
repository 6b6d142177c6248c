"""TikTok's response bodies: flat OAuth errors, the Display API envelope, injected faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

from fastapi.responses import HTMLResponse, JSONResponse, Response

from tiktok_emulator.faults import Endpoint, Fault, FaultQueue

Family = Literal["oauth", "display"]

_GATEWAY_503 = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
# A body cut off mid-document: served as JSON, parses as nothing.
_GARBAGE = b'{"data": {"user": {"open_id": "-000a1b2c3d4e5f6'


def oauth_error(error: str, description: str, log_id: str, status: int = 200) -> JSONResponse:
    # TikTok's OAuth endpoints answer errors with HTTP 200: the body decides.
    body = {"error": error, "error_description": description, "log_id": log_id}
    return JSONResponse(body, status_code=status)


def display_ok(data: dict[str, Any], log_id: str) -> JSONResponse:
    return JSONResponse({"data": data, "error": {"code": "ok", "message": "", "log_id": log_id}})


def display_error(status: int, code: str, message: str, log_id: str) -> JSONResponse:
    error = {"code": code, "message": message, "log_id": log_id}
    return JSONResponse({"data": {}, "error": error}, status_code=status)


def fault_response(fault: Fault, family: Family, log_id: str) -> Response:
    """What an injected fault answers instead of the endpoint (latency is handled upstream)."""
    if fault.kind == "http_503":
        return HTMLResponse(_GATEWAY_503, status_code=503)
    if fault.kind == "garbage":
        return Response(_GARBAGE, media_type="application/json")
    if family == "oauth":
        if fault.kind == "http_500":
            return oauth_error("server_error", "Injected server error.", log_id, 500)
        if fault.kind == "http_429":
            return oauth_error("rate_limit_exceeded", "Injected rate limit.", log_id, 429)
        return oauth_error(fault.error or "invalid_grant", "Injected error.", log_id)
    if fault.kind == "http_500":
        return display_error(500, "internal_error", "Injected server error.", log_id)
    if fault.kind == "http_429":
        return display_error(429, "rate_limit_exceeded", "Injected rate limit.", log_id)
    return display_error(200, fault.error or "internal_error", "Injected error.", log_id)


class DisplayError(Exception):
    """A Display API failure, rendered in the `{"data": {}, "error": {...}}` envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class InjectedFault(Exception):
    """Carries the response an injected fault sends instead of the endpoint's own."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def apply_fault(
    faults: FaultQueue, endpoint: Endpoint, family: Family, log_id: Callable[[], str]
) -> None:
    """Consume the next matching fault: delay, or raise `InjectedFault` with its response."""
    fault = faults.take(endpoint)
    if fault is None:
        return
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_ms / 1000)
        return
    raise InjectedFault(fault_response(fault, family, log_id()))
