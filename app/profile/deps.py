"""Dependencies of the profile routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.api.deps import SessionmakerDep, TikTokDep
from app.profile.service import ProfileService
from app.tokens.deps import TokensDep


async def get_profiles(
    tiktok: TikTokDep, tokens: TokensDep, sessionmaker: SessionmakerDep
) -> ProfileService:
    return ProfileService(tiktok, tokens, sessionmaker)


ProfilesDep = Annotated[ProfileService, Depends(get_profiles)]
