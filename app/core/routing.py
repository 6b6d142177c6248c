"""`RawRoute`: a FastAPI route served without dependency solving, for the hot raw-body routes.

FastAPI documents the route like any other (its summary, parameters, request body, answers
and `response_model` come from the decorator), but serves it by calling the endpoint with
the `Request` and sending the `Response` it returns: no dependency graph is solved, no body
is parsed, nothing is validated or re-serialised on the way out. That work is most of a
request's cost on a route that only verifies a signature over raw bytes and stores them
(the webhooks: TikTok may send thousands a second), and such a route needs none of it.

Errors raised by the endpoint are answered by the application's exception handlers, like
any route's. Use it with `APIRouter(route_class=RawRoute)`; the endpoint's signature must be
`async def endpoint(request: Request) -> Response`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

RawEndpoint = Callable[[Request], Coroutine[Any, Any, Response]]


class RawRoute(APIRoute):
    def get_route_handler(self) -> RawEndpoint:
        endpoint: RawEndpoint = self.endpoint
        return endpoint
