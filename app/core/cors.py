"""CORS for the CRM frontend (and its preview deploys), from one origin rule.

Origins come from `Settings.origin_policy` (see `app.core.origins`), the same rule that
vets a connect's `return_to`. Browsers may send the tracing headers of OpenTelemetry and
Sentry and an `Idempotency-Key`; answers expose the request id, `Retry-After` and whether an
answer was replayed. A refused preflight is logged with the origin and the reason, so "the
browser says CORS" has an answer in the service's own logs.
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from app.core.config import Settings

logger = logging.getLogger("app.cors")
ALLOWED_METHODS = ("GET", "POST", "PATCH", "DELETE", "OPTIONS")
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-Request-ID",
    "X-Company-Id",
    "Idempotency-Key",
    # W3C Trace Context and Baggage (OpenTelemetry), and Sentry's own tracing header.
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",
)
EXPOSED_HEADERS = ("X-Request-ID", "Retry-After", "Idempotent-Replayed")
# A header value in a log line is the caller's text: keep it short.
MAX_LOGGED_CHARS = 200


def _clip(value: str | None) -> str | None:
    return value if value is None or len(value) <= MAX_LOGGED_CHARS else value[:MAX_LOGGED_CHARS]


class FrontendCORSMiddleware(CORSMiddleware):
    """Starlette's CORS with our origin rule, and a log line for every refused preflight."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.policy = settings.origin_policy
        super().__init__(
            app,
            allow_origins=self.policy.origins,
            allow_credentials=True,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
        )

    def is_allowed_origin(self, origin: str) -> bool:
        return self.policy.allows(origin)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code >= 400:
            # Starlette names what failed: "Disallowed CORS origin, method, headers".
            reasons = bytes(response.body).decode().removeprefix("Disallowed CORS ").split(", ")
            logger.warning(
                "cors preflight refused",
                extra={
                    "origin": _clip(request_headers.get("origin")),
                    "reason": reasons,
                    "requested_method": _clip(request_headers.get("access-control-request-method")),
                    "requested_headers": _clip(
                        request_headers.get("access-control-request-headers")
                    ),
                },
            )
        return response
