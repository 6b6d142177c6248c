"""The last resort for an exception no handler took: a 500 that still reaches the browser.

Starlette answers unhandled exceptions in `ServerErrorMiddleware`, the outermost layer of
every app, outside CORS and outside our request-id middleware: its 500 carried neither
CORS headers (so a browser reports an opaque CORS failure) nor `X-Request-ID`, and its log
line no request id. This pure ASGI layer sits just inside CORS instead; it logs the
traceback once with the request id and answers `500 internal_error` in the API's error
shape, which then passes out through CORS and the request-id middleware like any answer.

Once an answer has started, nothing else can be sent: the exception is logged with the
request id and re-raised, and the server ends the connection.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import internal_error_response

logger = logging.getLogger("app.errors")


class UnhandledErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            raise  # nobody to answer: the request-id middleware counts it as a 499
        except Exception as exc:
            state: dict[str, Any] = scope.get("state", {})
            logger.exception(
                "unhandled error" if not started else "unhandled error after the answer began",
                exc_info=exc,
                extra={
                    "request_id": state.get("request_id"),
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                },
            )
            if started:
                raise
            await internal_error_response()(scope, receive, send)
