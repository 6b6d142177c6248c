"""Dependencies of the ads routes (and of the connect routes that reach ads accounts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.ads.service import AdsService, business_or_raise
from app.api.deps import OptionalBusinessDep
from app.tiktok.business import TikTokBusinessClient


async def get_business(business: OptionalBusinessDep) -> TikTokBusinessClient:
    return business_or_raise(business)


async def get_ads(request: Request) -> AdsService:
    ads: AdsService = request.app.state.ads
    return ads


BusinessDep = Annotated[TikTokBusinessClient, Depends(get_business)]
AdsDep = Annotated[AdsService, Depends(get_ads)]
