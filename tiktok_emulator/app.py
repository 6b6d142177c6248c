"""`create_emulator`: the TikTok emulator as its own ASGI application.

Mounted by the main app at `/_tiktok` or served alone; every link it renders is built from
the request (root path included), so both work.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from tiktok_emulator import (
    business_api,
    business_control,
    business_portal,
    control_api,
    display_api,
    oauth_api,
    web,
)
from tiktok_emulator.authorize import AuthorizeRejected
from tiktok_emulator.business_state import BusinessError
from tiktok_emulator.config import EmulatorConfig
from tiktok_emulator.deps import get_emulator
from tiktok_emulator.grants import OAuthError
from tiktok_emulator.pages import error_page
from tiktok_emulator.state import EmulatorState
from tiktok_emulator.wire import DisplayError, InjectedFault, display_error, oauth_error


async def _oauth_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OAuthError)
    return oauth_error(exc.error, exc.description, get_emulator(request).log_id())


async def _display_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DisplayError)
    return display_error(exc.status, exc.code, exc.message, get_emulator(request).log_id())


async def _business_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BusinessError)
    return business_api.envelope(exc.code, exc.message, get_emulator(request).log_id(), {})


async def _authorize_rejected(_: Request, exc: Exception) -> HTMLResponse:
    # Never redirect: the redirect_uri itself may be what is wrong.
    return HTMLResponse(error_page(str(exc)), status_code=400)


async def _injected_fault(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, InjectedFault)
    return exc.response


def create_emulator(config: EmulatorConfig | None = None) -> FastAPI:
    emulator = FastAPI(
        title="TikTok emulator",
        description="Login Kit, Display API and TikTok for Business (advertiser OAuth, lead "
        "forms, lead export, lead webhooks) wire formats with fake users and advertisers, for "
        "local work and end-to-end tests. Control it under /_control.",
        version="1",
    )
    emulator.state.emulator = EmulatorState(config or EmulatorConfig())
    emulator.add_exception_handler(OAuthError, _oauth_error)
    emulator.add_exception_handler(DisplayError, _display_error)
    emulator.add_exception_handler(AuthorizeRejected, _authorize_rejected)
    emulator.add_exception_handler(InjectedFault, _injected_fault)
    emulator.add_exception_handler(BusinessError, _business_error)
    for module in (
        oauth_api,
        display_api,
        control_api,
        business_portal,
        business_api,
        business_control,
        web,
    ):
        emulator.include_router(module.router)
    return emulator
