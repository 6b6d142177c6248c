"""`TikTok-Signature` verification (TIKTOK_API.md §3) and the dependency that applies it.

The header is `t=<unix ts>,s=<hex HMAC-SHA256(client_secret, f"{t}.{raw_body}")>`. The body
is read with a size bound, the HMAC is computed over the exact bytes received, signatures
are compared in constant time, and a timestamp outside the tolerance (stale or from the
future) is refused, so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request

from app.core.config import Settings
from app.core.errors import AppError
from app.tiktok.errors import TikTokNotConfigured

SIGNATURE_HEADER = "TikTok-Signature"
MAX_TIMESTAMP_DIGITS = 12


class WebhookUnauthorized(AppError):
    status_code = 401
    code = "webhook_unauthorized"
    message = "The webhook could not be authenticated."


class SignatureMissing(WebhookUnauthorized):
    code = "webhook_signature_missing"
    message = "The TikTok-Signature header is missing."


class SignatureMalformed(WebhookUnauthorized):
    code = "webhook_signature_malformed"
    message = "The TikTok-Signature header is not `t=<timestamp>,s=<signature>`."


class SignatureInvalid(WebhookUnauthorized):
    code = "webhook_signature_invalid"
    message = "The TikTok-Signature does not match the body."


class TimestampStale(WebhookUnauthorized):
    code = "webhook_timestamp_stale"
    message = "The TikTok-Signature timestamp is outside the accepted window."


class ClientKeyMismatch(WebhookUnauthorized):
    code = "webhook_client_key_mismatch"
    message = "The webhook is for another TikTok app (client_key does not match)."


class WebhookTooLarge(AppError):
    status_code = 413
    code = "webhook_too_large"
    message = "The webhook body is too large."


@dataclass(frozen=True, slots=True)
class SignatureHeader:
    timestamp: str
    signatures: tuple[str, ...]


def parse_header(value: str) -> SignatureHeader:
    """`t=...,s=...` in any order, spaces tolerated, several `s=` allowed (secret rotation)."""
    timestamp: str | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        key, item = key.strip(), item.strip()
        if not sep or not item:
            raise SignatureMalformed
        if key == "t":
            digits = item.isascii() and item.isdigit() and len(item) <= MAX_TIMESTAMP_DIGITS
            if timestamp is not None or not digits:
                raise SignatureMalformed
            timestamp = item
        elif key == "s":
            signatures.append(item)
    if timestamp is None or not signatures:
        raise SignatureMalformed
    return SignatureHeader(timestamp, tuple(signatures))


def compute_signature(secret: str, timestamp: str, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class WebhookVerifier:
    """Checks one delivery; `clock` is injectable so fixed test vectors verify."""

    secret: str = field(repr=False)
    client_key: str
    tolerance_seconds: int
    max_body_bytes: int
    clock: Callable[[], float] = time.time

    def verify(self, header: str | None, body: bytes) -> int:
        """The signed timestamp, or a 401 error; nothing about the body is trusted before."""
        if not header:
            raise SignatureMissing
        parsed = parse_header(header)
        expected = compute_signature(self.secret, parsed.timestamp, body)
        # Every candidate is compared (no early exit) so timing says nothing about which.
        matches = [
            hmac.compare_digest(expected.encode(), candidate.lower().encode())
            for candidate in parsed.signatures
        ]
        if not any(matches):
            raise SignatureInvalid
        timestamp = int(parsed.timestamp)
        if abs(self.clock() - timestamp) > self.tolerance_seconds:
            raise TimestampStale
        return timestamp


def configured_verifier(settings: Settings) -> WebhookVerifier | None:
    """The verifier for the app's Login Kit secret (built once per app), or None without one."""
    secret = (
        settings.tiktok_client_secret.get_secret_value() if settings.tiktok_client_secret else ""
    )
    if not secret or not settings.tiktok_client_id:
        return None
    return WebhookVerifier(
        secret=secret,
        client_key=settings.tiktok_client_id,
        tolerance_seconds=settings.tiktok_webhook_tolerance_seconds,
        max_body_bytes=settings.webhook_max_body_bytes,
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused past `limit` bytes whatever Content-Length claims."""
    declared = request.headers.get("content-length", "")
    if (
        declared.isascii()
        and declared.isdigit()
        and (len(declared) > len(str(limit)) or int(declared) > limit)
    ):
        raise WebhookTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise WebhookTooLarge
    return bytes(body)


@dataclass(frozen=True, slots=True)
class SignedWebhook:
    body: bytes
    timestamp: int
    client_key: str


async def verified_webhook(request: Request, verifier: WebhookVerifier | None) -> SignedWebhook:
    """The delivery, read within the verifier's bound and verified; a 401 or 413 error, or a
    503 when no verifier is configured."""
    if verifier is None:
        raise TikTokNotConfigured
    # The header is read here rather than declared as a parameter: a missing or malformed
    # signature is a 401 with our error codes, never a 422 (the endpoint documents it).
    body = await read_body(request, verifier.max_body_bytes)
    timestamp = verifier.verify(request.headers.get(SIGNATURE_HEADER), body)
    return SignedWebhook(body=body, timestamp=timestamp, client_key=verifier.client_key)
