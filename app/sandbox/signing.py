"""TikTok's webhook signature (TIKTOK_API.md §3), shared by the emulator and tests."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "TikTok-Signature"


def sign_webhook(secret: str, body: bytes, timestamp: int) -> str:
    """The `TikTok-Signature` header value: `t=<ts>,s=<hex HMAC-SHA256(secret, "t.body")>`."""
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"
