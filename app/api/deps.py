"""The dependencies every router uses, as `Annotated` aliases."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import APIKeyHeader, HTTPBearer
from fastapi.security.base import SecurityBase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Scope

from app.core.config import Settings
from app.core.crypto import TokenCipher
from app.core.db import AsyncReadSession, read_scope, session_scope
from app.core.errors import Unauthorized
from app.core.openapi import BEARER, COMPANY, SERVICE_KEY
from app.core.security import (
    AmbiguousCredentials,
    Principal,
    principal_from_jwt,
    principal_from_service_key,
)
from app.tiktok.business import TikTokBusinessClient
from app.tiktok.client import TikTokClient
from app.tiktok.errors import TikTokNotConfigured


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


# For code that opens short write transactions of its own (after TikTok has answered, say)
# instead of writing through the request's session.
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with session_scope(await get_sessionmaker(request)) as session:
        yield session


# scope="function": commit when the endpoint returns, before the response is sent.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_read_session(request: Request) -> AsyncIterator[AsyncReadSession]:
    sessionmaker: async_sessionmaker[AsyncReadSession] = request.app.state.read_sessionmaker
    async with read_scope(sessionmaker) as session:
        yield session


# For routes that write nothing: no commit, no write lock on SQLite, no BEGIN/COMMIT round
# trips on PostgreSQL; a write through it raises (`app.core.db.AsyncReadSession`).
ReadSessionDep = Annotated[AsyncReadSession, Depends(get_read_session, scope="function")]

# The credentials a request may carry (`app.core.openapi` declares them as two
# alternatives: a CRM user's bearer token, or a service key together with the company it
# acts for). `get_principal` reads them itself instead of having FastAPI solve them as three
# dependencies of its own on every authenticated request; the document declares them on
# every operation that needs a principal (`needs_principal`, `app.main`).
_bearer = HTTPBearer(auto_error=False, scheme_name=BEARER, description="JWT issued by the CRM")
_service_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name=SERVICE_KEY,
    description="Internal service key; sent with X-Company-Id",
)
_company = APIKeyHeader(
    name="X-Company-Id",
    auto_error=False,
    scheme_name=COMPANY,
    description="The company an internal service acts for (with X-API-Key)",
)
SECURITY_SCHEMES: tuple[SecurityBase, ...] = (_bearer, _service_key, _company)


async def get_principal(request: Request) -> Principal:
    """Who calls: a bearer token or a service key, never a choice between two credentials.

    A request carrying both is what a generated client sends when it is configured with one
    token and fills every declared scheme with it: when `X-API-Key` is that same bearer
    token, the request is the bearer's. Two different credentials are refused (401
    `ambiguous_credentials`), so no header a client did not mean to send decides who it is.
    """
    # Resolved once per request: `authenticate_before_body` may have done it already.
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    settings: Settings = request.app.state.settings
    bearer = await _bearer(request)
    service_key = await _service_key(request)
    if service_key and bearer is not None:
        if not hmac.compare_digest(service_key.encode(), bearer.credentials.encode()):
            raise AmbiguousCredentials
        service_key = None
    if service_key:
        principal = principal_from_service_key(service_key, await _company(request), settings)
    elif bearer is not None:
        principal = principal_from_jwt(bearer.credentials, settings)
    else:
        raise Unauthorized
    request.state.company_id = principal.company_id
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _needs_principal(dependant: Dependant) -> bool:
    return any(sub.call is get_principal or _needs_principal(sub) for sub in dependant.dependencies)


def needs_principal(route: object) -> bool:
    """Whether a route answers only an authenticated caller (it depends on `PrincipalDep`)."""
    dependant = getattr(route, "dependant", None)
    return isinstance(dependant, Dependant) and _needs_principal(dependant)


async def authenticate_before_body(scope: Scope) -> None:
    """Credentials before the body: the `before_body` of `app.core.limits.BodyGuardMiddleware`.

    FastAPI reads and parses a request body before it runs any dependency, so a route that
    needs a principal would parse a stranger's body before answering 401. This resolves the
    principal, exactly as `PrincipalDep` does, when the matched route needs one.
    """
    if not needs_principal(scope.get("route")):
        return
    request = Request(scope)
    if get_principal in request.app.dependency_overrides:
        return  # replaced (in a test): the override decides, as a dependency
    await get_principal(request)


async def get_optional_tiktok(request: Request) -> TikTokClient | None:
    client: TikTokClient | None = request.app.state.tiktok
    return client


async def get_tiktok(request: Request) -> TikTokClient:
    client = await get_optional_tiktok(request)
    if client is None:
        raise TikTokNotConfigured
    return client


TikTokDep = Annotated[TikTokClient, Depends(get_tiktok)]
OptionalTikTokDep = Annotated[TikTokClient | None, Depends(get_optional_tiktok)]


async def get_optional_business(request: Request) -> TikTokBusinessClient | None:
    client: TikTokBusinessClient | None = request.app.state.business
    return client


OptionalBusinessDep = Annotated[TikTokBusinessClient | None, Depends(get_optional_business)]


async def get_cipher(request: Request) -> TokenCipher:
    cipher: TokenCipher = request.app.state.cipher
    return cipher


CipherDep = Annotated[TokenCipher, Depends(get_cipher)]
