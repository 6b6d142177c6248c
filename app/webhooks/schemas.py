"""What the webhook endpoint answers, and TikTok's envelope as documented in the OpenAPI."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class WebhookAck(BaseModel):
    status: Literal["accepted", "duplicate", "rejected"] = Field(
        description="`accepted`: stored, processed right after; `duplicate`: already "
        "stored, not processed again; `rejected`: signed but unusable, stored with the reason"
    )
    reason: str | None = Field(default=None, description="Why the event was rejected")


class TikTokWebhookEnvelope(BaseModel):
    """The body TikTok POSTs (TIKTOK_API.md §3); parsed by hand for exact rejection reasons."""

    client_key: str = Field(description="The app's client key; must be this service's")
    event: str = Field(examples=["authorization.removed"])
    create_time: int = Field(description="When the event happened (Unix seconds)")
    user_openid: str | None = Field(default=None, description="The TikTok user (open_id)")
    content: str = Field(
        default="{}",
        description="A JSON object serialized as a string",
        examples=['{"reason": 1}'],
    )
