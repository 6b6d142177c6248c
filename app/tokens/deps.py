"""Dependency of the routes that use accounts' tokens: the process's token manager."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.tokens.manager import TokenManager


async def get_tokens(request: Request) -> TokenManager:
    manager: TokenManager = request.app.state.tokens
    return manager


TokensDep = Annotated[TokenManager, Depends(get_tokens)]
