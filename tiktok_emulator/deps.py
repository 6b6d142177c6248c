"""Dependencies of the emulator's routes: its state and the Display API's request guard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from tiktok_emulator.faults import Endpoint
from tiktok_emulator.grants import Token, TokenRejected
from tiktok_emulator.state import EmulatorState
from tiktok_emulator.wire import DisplayError, apply_fault


def get_emulator(request: Request) -> EmulatorState:
    emulator: EmulatorState = request.app.state.emulator
    return emulator


EmulatorDep = Annotated[EmulatorState, Depends(get_emulator)]


def _bearer(request: Request) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise DisplayError(
            401, "access_token_invalid", "The access token is invalid or not found in the request."
        )
    return credentials.strip()


def display_call(endpoint: Endpoint) -> Callable[[Request, EmulatorState], Awaitable[Token]]:
    """Count, inject faults, rate-limit, then authenticate the bearer token, like TikTok's
    gateway does before the endpoint runs."""

    async def guard(request: Request, emulator: EmulatorDep) -> Token:
        emulator.count(endpoint)
        await apply_fault(emulator.faults, endpoint, "display", emulator.log_id)
        if not emulator.limiter.allow(endpoint, emulator.now()):
            raise DisplayError(429, "rate_limit_exceeded", "Too many requests; slow down.")
        try:
            return emulator.grants.authenticate_bearer(_bearer(request))
        except TokenRejected as exc:
            raise DisplayError(401, "access_token_invalid", str(exc)) from exc

    return guard
