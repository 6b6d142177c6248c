"""Dependencies of the profile routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.deps import TikTokDep
from app.profile.service import ProfileService
from app.tokens.deps import TokensDep


async def get_profiles(request: Request, tiktok: TikTokDep, tokens: TokensDep) -> ProfileService:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return ProfileService(tiktok, tokens, sessionmaker)


ProfilesDep = Annotated[ProfileService, Depends(get_profiles)]
