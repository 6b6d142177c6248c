"""One error shape for the whole API and the exceptions that produce it.

Every error is rendered as `{"error": {"code", "message", "details"}}`. Domain code raises
an `AppError` subclass carrying its HTTP status and a stable snake_case code; the handlers
here render those, FastAPI's validation errors, Starlette's HTTP errors and anything
unexpected (as a 500 that leaks nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("app.errors")
# A 422 lists at most this many problems (then a count of the rest), each part of a problem
# clipped to this many characters and its location to this many parts.
MAX_VALIDATION_PROBLEMS = 20
MAX_DETAIL_CHARS = 200
MAX_LOC_PARTS = 10


class ValidationProblem(BaseModel):
    """One problem of a 422 `validation_error` / `malformed_json` (the input is never echoed)."""

    loc: list[str | int] = Field(
        description="Where: `body`, `query`, `path` or `header`, then keys"
    )
    msg: str
    type: str = Field(description="pydantic's error type; `too_many_problems` for the summary")
    count: int | None = Field(
        default=None, description="`too_many_problems` only: how many more were not listed"
    )


ErrorDetails = list[ValidationProblem] | dict[str, str | int | float | bool | None]


class ErrorBody(BaseModel):
    # The OpenAPI document narrows `code` to the `ErrorCode` enum: every code the service
    # can answer (`error_codes()`), so a generated client can switch on it exhaustively.
    code: str = Field(description="Stable snake_case error code", examples=["not_found"])
    message: str = Field(description="Human-readable explanation")
    details: ErrorDetails | None = Field(
        default=None,
        description="Structured context, when useful: the problems of a 422, or named values "
        "(e.g. `max_bytes`, TikTok's `log_id`, `retry_after`)",
    )


class ErrorResponse(BaseModel):
    error: ErrorBody


# Every error code the API can answer. Each `AppError` subclass adds its own as it is
# defined; `register_code` adds those answered without one (validation, HTTP errors).
_ERROR_CODES: set[str] = set()


def register_code(code: str) -> str:
    _ERROR_CODES.add(code)
    return code


def error_codes() -> list[str]:
    """The codes registered so far, sorted (see `app.core.openapi`, which imports all of
    `app` first so the list is complete)."""
    return sorted(_ERROR_CODES)


MALFORMED_JSON = register_code("malformed_json")
VALIDATION_ERROR = register_code("validation_error")
INTERNAL_ERROR = register_code("internal_error")
# Starlette's own HTTP errors answer their status' name (`not_found`, `method_not_allowed`);
# a status with no registered name answers `http_error`.
HTTP_ERROR = register_code("http_error")
register_code("method_not_allowed")


class AppError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = register_code("bad_request")
    message: ClassVar[str] = "The request could not be processed."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_code(cls.code)

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail_message = message or self.message
        self.details = details
        self.headers = headers
        super().__init__(self.detail_message)


class Unauthorized(AppError):
    status_code = 401
    code = "not_authenticated"
    message = "A valid bearer token is required."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="crm"'})


class InvalidToken(Unauthorized):
    code = "invalid_token"
    message = "The bearer token is invalid."


class TokenExpired(Unauthorized):
    code = "token_expired"
    message = "The bearer token has expired."


class SubscriptionInactive(AppError):
    status_code = 403
    code = "subscription_inactive"
    message = "The company's subscription is not active."


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class RequestTooLarge(AppError):
    status_code = 413
    code = "request_too_large"
    message = "The request body is too large."


def error_json(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    # Not validated against `ErrorBody`: rendering an error must never fail on its details.
    body = {"error": {"code": code, "message": message, "details": jsonable_encoder(details)}}
    return JSONResponse(body, status_code=status, headers=headers)


def internal_error_response() -> JSONResponse:
    """The answer to anything unexpected: nothing internal leaks (see `app.core.unhandled`)."""
    return error_json(500, INTERNAL_ERROR, "An unexpected error occurred.")


def _status_code_name(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


def _clip(value: object) -> str:
    text = str(value)
    return text if len(text) <= MAX_DETAIL_CHARS else text[: MAX_DETAIL_CHARS - 1] + "…"


def _problem(error: Mapping[str, Any]) -> dict[str, Any]:
    """One validation problem: location, message and type, each bounded.

    The submitted input is never echoed (it may be a secret); a location names keys the
    client chose (an unknown key may be a megabyte long), so its parts are clipped too.
    """
    loc = list(error.get("loc", ()))
    parts = [part if isinstance(part, int) else _clip(part) for part in loc[:MAX_LOC_PARTS]]
    if len(loc) > MAX_LOC_PARTS:
        parts.append("…")
    return {"loc": parts, "msg": _clip(error.get("msg", "")), "type": _clip(error.get("type", ""))}


def validation_details(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The first `MAX_VALIDATION_PROBLEMS` problems, then one entry counting the rest."""
    details = [_problem(error) for error in errors[:MAX_VALIDATION_PROBLEMS]]
    rest = len(errors) - len(details)
    if rest > 0:
        details.append(
            {
                "loc": [],
                "msg": f"{rest} more problems not listed",
                "type": "too_many_problems",
                "count": rest,
            }
        )
    return details


def app_error_response(exc: AppError) -> JSONResponse:
    return error_json(exc.status_code, exc.code, exc.detail_message, exc.details, exc.headers)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return app_error_response(exc)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    details = validation_details(errors)
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_json(422, MALFORMED_JSON, "The request body is not valid JSON.", details)
    return error_json(422, VALIDATION_ERROR, "The request is not valid.", details)


# FastAPI answers a body it cannot decode (not UTF-8, nested past Python's recursion limit)
# with a bare 400 raised from the decoding error; these are malformed JSON like any other.
_UNDECODABLE_BODY: dict[type[BaseException], str] = {
    UnicodeDecodeError: "The request body is not valid UTF-8.",
    RecursionError: "The request body is nested too deeply.",
}


def _undecodable_body(exc: StarletteHTTPException) -> str | None:
    cause = exc.__cause__
    if exc.status_code != 400 or cause is None:
        return None
    return next((msg for kind, msg in _UNDECODABLE_BODY.items() if isinstance(cause, kind)), None)


def _allowed_methods(request: Request) -> str | None:
    """Every method some route serves at this path (one path may be several routes: GET and
    POST `/accounts/` are two), for a 405's `Allow` header."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(request.url.path):
            methods |= set(route.methods or ())
    return ", ".join(sorted(methods)) if methods else None


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if (undecodable := _undecodable_body(exc)) is not None:
        return error_json(422, MALFORMED_JSON, undecodable)
    code = _status_code_name(exc.status_code)
    if code not in _ERROR_CODES:
        code = HTTP_ERROR
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = allowed
    return error_json(exc.status_code, code, message, headers=headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Only what escapes `app.core.unhandled.UnhandledErrorMiddleware` (the outer layers).
    request_id = getattr(request.state, "request_id", None)
    logger.exception("unhandled error", exc_info=exc, extra={"request_id": request_id})
    return internal_error_response()


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries declaring the error shape for these statuses."""
    return {
        status: {"model": ErrorResponse, "description": HTTPStatus(status).phrase}
        for status in statuses
    }
