"""The OpenAPI document as generated clients need it: ids, tags, security, errors.

FastAPI generates the document from the routes; `declare_security` and `finish_document`
then state what the routes alone cannot:
- **security** as two alternatives, `[{bearer: []}, {apiKey: [], companyId: []}]`: a CRM
  token, or a service key *with* the company it acts for (`declare_security`, on every
  operation that needs a principal: `get_principal` reads the credentials itself, so FastAPI
  sees no security dependency to document; and FastAPI would list each scheme as an
  alternative of its own, so a client configured with only a bearer token used to send it
  as `X-API-Key` too);
- **500** on every operation, in the error shape;
- **error codes** as the `ErrorCode` enum, every code the service can answer
  (`app.core.errors.error_codes`), so a generated client can switch on `error.code`
  exhaustively.

Operation ids are `<tag>.<verb><Thing>` (`accounts.list`, `tiktok.getProfile`): the route's
first tag in camelCase, then its function name without the words of the tag. Routes that
are not for API clients carry one of `INTERNAL_TAGS`, so a generator can leave them out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security.base import SecurityBase
from starlette.routing import BaseRoute

from app.core.errors import ErrorResponse, error_codes

BEARER, SERVICE_KEY, COMPANY = "bearer", "apiKey", "companyId"
SECURITY: list[dict[str, list[str]]] = [{BEARER: []}, {SERVICE_KEY: [], COMPANY: []}]

BROWSER_TAG = "oauth-browser"
WEBHOOKS_TAG = "tiktok-webhooks"
OPS_TAG = "ops"
INTERNAL_TAGS = (BROWSER_TAG, WEBHOOKS_TAG, OPS_TAG)
TAGS: list[dict[str, Any]] = [
    {"name": "accounts", "description": "Integration accounts and their connection"},
    {"name": "tiktok", "description": "A connected TikTok account's profile, stats, videos"},
    {"name": "ads", "description": "TikTok for Business accounts: advertisers, forms, backfills"},
    {"name": "leads", "description": "TikTok leads and their delivery to the CRM"},
    {
        "name": "events",
        "description": "Events the CRM is told (feed, deliveries, recovery); their bodies are "
        "the document's `webhooks`",
    },
    {
        "name": BROWSER_TAG,
        "description": "Not for API clients: pages of the OAuth round trip that a browser "
        "navigates to (the first-party hop and TikTok's redirects back)",
    },
    {
        "name": WEBHOOKS_TAG,
        "description": "Not for API clients: TikTok's webhook deliveries, signed by TikTok",
    },
    {"name": OPS_TAG, "description": "Not for API clients: health, readiness, metrics"},
]


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _camel(words: list[str]) -> str:
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


def operation_id(route: APIRoute) -> str:
    """`accounts.list` for `list_accounts` tagged `accounts`: no stutter."""
    tag = str(route.tags[0]) if route.tags else "default"
    tag_words = re.split(r"[-_ ]", tag)
    stems = {_singular(word) for word in tag_words}
    words = route.name.split("_")
    verb = [word for word in words if _singular(word) not in stems] or words
    return f"{_camel(tag_words)}.{_camel(verb)}"


def _error_schema() -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{ErrorResponse.__name__}"}


def _declare_500(operation: dict[str, Any]) -> None:
    operation.setdefault("responses", {}).setdefault(
        "500",
        {
            "description": "Internal Server Error (nothing internal leaks; see X-Request-ID)",
            "content": {"application/json": {"schema": _error_schema()}},
        },
    )


def _declare_error_codes(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorCode"] = {
        "type": "string",
        "enum": error_codes(),
        "title": "ErrorCode",
        "description": "Every code the service answers in `error.code`",
    }
    body = schemas.get("ErrorBody")
    if body is not None:
        code = body["properties"]["code"]
        body["properties"]["code"] = {
            "$ref": "#/components/schemas/ErrorCode",
            "description": code.get("description", ""),
        }


def declare_security(
    document: dict[str, Any],
    schemes: Iterable[SecurityBase],
    secured: Iterable[tuple[str, str]],
) -> dict[str, Any]:
    """Declare the security `schemes`, and `SECURITY` on each `(path, method)` of `secured`:
    the routes that read their credentials themselves (FastAPI documents only those it
    solves as dependencies)."""
    if not (secured := list(secured)):
        return document
    components = document.setdefault("components", {}).setdefault("securitySchemes", {})
    for scheme in schemes:
        components[scheme.scheme_name] = jsonable_encoder(
            scheme.model, by_alias=True, exclude_none=True
        )
    paths = document.get("paths", {})
    for path, method in secured:
        operation = paths.get(path, {}).get(method)
        if operation is not None:
            operation["security"] = [dict(requirement) for requirement in SECURITY]
    return document


def secured_operations(
    routes: Sequence[BaseRoute], needs_credentials: Callable[[object], bool]
) -> list[tuple[str, str]]:
    """`(path, method)` of every documented route that `needs_credentials` (routes of
    included routers as the app serves them: full path, effective dependencies)."""
    return [
        (str(route.path_format), method.lower())
        for route in iter_route_contexts(routes)
        if isinstance(route.original_route, APIRoute)
        and route.include_in_schema
        and needs_credentials(route)
        for method in sorted(route.methods or ())
    ]


def finish_document(document: dict[str, Any]) -> dict[str, Any]:
    """500 everywhere and the error code enum (idempotent)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                _declare_500(operation)
    _declare_error_codes(document)
    return document
