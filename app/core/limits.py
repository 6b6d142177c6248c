"""Bounded request bodies, with the caller's credentials checked before any byte is read.

`BodyGuardMiddleware` (pure ASGI) stands between the app and every request body:
- a `Content-Length` over the limit is answered 413 `request_too_large` before the app runs;
- a body without one (chunked) is counted as it arrives and refused once it passes the limit;
- before the first body byte is read, `before_body(scope)` runs; the API passes its
  credentials check, so a route that needs a principal answers 401/403 without reading (or
  parsing) the body. FastAPI reads and parses a body *before* it runs any dependency, so a
  dependency alone cannot give this order.

A refusal reaches the app as an exception out of `receive`. Whatever the app makes of it
(FastAPI answers its own 400 "error parsing the body") is discarded, and the refusal is
answered in the API's error shape, with `Connection: close` because the rest of the body is
left unread.

Routes that read their body raw and bound it themselves (the webhooks, whose limits differ
and whose 413 says `webhook_too_large`) are listed in `exempt_paths`.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import AppError, ErrorResponse, RequestTooLarge, app_error_response

BeforeBody = Callable[[Scope], Awaitable[None]]
MAX_LENGTH_DIGITS = 18


class _Refused(Exception):
    """Raised into the app from `receive`: the body will not be read."""


def _route_path(scope: Scope) -> str:
    """The path as routes see it (behind a proxy prefix, `path` starts with `root_path`)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path.removeprefix(root) if root else path


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length", "")
    if not (value.isascii() and value.isdigit()):
        return None  # absent (chunked) or invalid: the server refuses the latter itself
    # Thousands of digits would make `int()` raise; anything past 18 is too large anyway.
    return int(value) if len(value) <= MAX_LENGTH_DIGITS else sys.maxsize


def _too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(
        f"The request body is larger than {limit} bytes.",
        details={"max_bytes": limit},
        headers={"Connection": "close"},
    )


class BodyGuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        exempt_paths: Collection[str] = (),
        before_body: BeforeBody | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt_paths = frozenset(exempt_paths)
        self.before_body = before_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _route_path(scope) in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await app_error_response(_too_large(self.max_bytes))(scope, receive, send)
            return

        # Why the body will not be read: an error to answer, or a failure of `before_body`
        # itself (re-raised after the app returns, so it is a 500 and not FastAPI's 400).
        refusal: BaseException | None = None
        checked = False
        received = 0
        started = False

        async def guarded_receive() -> Message:
            nonlocal refusal, checked, received
            if refusal is not None:
                raise _Refused
            if not checked:
                checked = True
                if self.before_body is not None:
                    try:
                        await self.before_body(scope)
                    except Exception as exc:
                        refusal = exc
                        raise _Refused from None
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refusal = _too_large(self.max_bytes)
                    raise _Refused
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refusal is not None and not started:
                return  # the app's answer to a body it could not read; ours follows
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if refusal is None or started:
                raise
        if refusal is None or started:
            return
        if not isinstance(refusal, AppError):
            raise refusal
        response = app_error_response(refusal)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def declare_request_too_large(document: dict[str, Any]) -> dict[str, Any]:
    """Declare 413 on every operation of `document` that takes a body and declares none."""
    schema = {"$ref": f"#/components/schemas/{ErrorResponse.__name__}"}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault(
                    "413",
                    {
                        "description": "Request body too large",
                        "content": {"application/json": {"schema": schema}},
                    },
                )
    return document
