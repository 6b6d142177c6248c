"""Request id, access log and Prometheus metrics, as one pure ASGI middleware.

Metrics are labelled by route template (never the raw path, so ids do not explode the
label set). The access log line carries request id, route, status, duration and company.
A client that hangs up before its answer is status 499 in both, logged at INFO like any
request: an ordinary event, not an error with a traceback.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import bind_request_id, unbind_request_id
from app.core.metrics import register_process_metrics

logger = logging.getLogger("app.access")
REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
CLIENT_CLOSED_REQUEST = 499


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route template and method",
            ["method", "route"],
            registry=self.registry,
        )
        register_process_metrics(self.registry)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return str(route.path)
    # Not routed (refused before routing, or no route): a direct route of the app may still
    # name it; FastAPI's included routers do not say which of their routes would match.
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", []):
        path = getattr(candidate, "path", None)
        if path and candidate.matches(scope)[0] == Match.FULL:
            return str(path)
    return "unmatched"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = False
        # The client hung up before it had an answer (mid-body, typically): whatever the app
        # answers goes nowhere. Counted as 499 ("client closed request", as nginx logs it).
        hung_up = False
        start = time.perf_counter()

        async def receive_wrapper() -> Message:
            nonlocal hung_up
            message = await receive()
            if message["type"] == "http.disconnect" and not started:
                hung_up = True
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message["headers"] = headers
            await send(message)

        # Every line logged while this request runs (TikTok calls, library lines, a refresh
        # task it starts) carries its id: the JSON formatter reads it from the context.
        bound = bind_request_id(request_id)
        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        except ClientDisconnect:
            # An ordinary event, not an error: logged once below, with no traceback.
            hung_up = True
        finally:
            duration = time.perf_counter() - start
            if hung_up:
                status = CLIENT_CLOSED_REQUEST
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(duration)
            state: dict[str, Any] = scope.get("state", {})
            logger.info(
                "client closed the request" if hung_up else "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                    "company_id": state.get("company_id"),
                },
            )
            unbind_request_id(bound)
