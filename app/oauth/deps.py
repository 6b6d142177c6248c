"""Dependencies of the connect routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.oauth.state import StateCodec


async def get_codec(request: Request) -> StateCodec:
    codec: StateCodec = request.app.state.state_codec
    return codec


CodecDep = Annotated[StateCodec, Depends(get_codec)]
