"""Delivery of the Login Kit webhooks the emulator sends (authorization.removed)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from tiktok_emulator.signing import SIGNATURE_HEADER, sign_webhook

DELIVERY_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Delivery:
    url: str
    status_code: int | None
    error: str | None


def authorization_removed_body(
    client_key: str, open_id: str, reason: int, create_time: int
) -> bytes:
    envelope = {
        "client_key": client_key,
        "event": "authorization.removed",
        "create_time": create_time,
        "user_openid": open_id,
        # TikTok sends content as a JSON document serialized into a string.
        "content": json.dumps({"reason": reason}),
    }
    return json.dumps(envelope, separators=(",", ":")).encode()


async def post_once(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> tuple[int | None, str | None]:
    """POST a JSON webhook once: its status code, or the transport error that stopped it."""
    try:
        response = await client.post(
            url, content=body, headers={"Content-Type": "application/json", **headers}
        )
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return response.status_code, None


async def deliver(url: str, secret: str, body: bytes, timestamp: int) -> Delivery:
    """POST a signed webhook once; failures are reported, not raised (TikTok would retry)."""
    headers = {SIGNATURE_HEADER: sign_webhook(secret, body, timestamp)}
    # A client per delivery: a mounted sub-application gets no lifespan to own one, and
    # deliveries are rare control actions.
    async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS) as client:
        status_code, error = await post_once(client, url, body, headers)
    return Delivery(url=url, status_code=status_code, error=error)
