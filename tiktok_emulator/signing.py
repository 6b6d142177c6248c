"""TikTok's webhook signatures (TIKTOK_API.md §3-4), shared by the emulator and tests."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "TikTok-Signature"
# The other scheme public sources give for lead webhooks (TikTok for Business).
OPEN_SIGNATURE_HEADER = "X-Open-Signature"


def sign_webhook(secret: str, body: bytes, timestamp: int) -> str:
    """The `TikTok-Signature` header value: `t=<ts>,s=<hex HMAC-SHA256(secret, "t.body")>`."""
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


def sign_open_signature(secret: str, body: bytes) -> str:
    """The `X-Open-Signature` header value: hex HMAC-SHA256(secret, raw body)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def unicode_escaped(body: bytes) -> bytes:
    """What TikTok may sign instead of the UTF-8 body it sends (TIKTOK_API.md §5): every
    non-ASCII character as `\\uXXXX`, lowercase hex, a UTF-16 surrogate pair above U+FFFF
    (`🎯` → `\\ud83c\\udfaf`); every other byte unchanged."""
    out = []
    for char in body.decode("utf-8"):
        if char.isascii():
            out.append(char)
            continue
        units = char.encode("utf-16-be")
        out.extend(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
    return "".join(out).encode("ascii")
