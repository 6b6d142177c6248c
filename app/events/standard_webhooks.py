"""Signing CRM deliveries the Standard Webhooks way (https://www.standardwebhooks.com), with
the reference library (`standardwebhooks`).

`webhook-signature: v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")>`.
A secret `whsec_<base64>` means the key is the decoded base64; any other secret is used
as its UTF-8 bytes (the library takes only the first form, so the key is handed to it).
During a rotation several secrets are configured: the header then holds one `v1,`
signature per secret, space-separated, and a receiver accepts any one it can verify.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's prefix, not a secret


def signing_key(secret: str) -> bytes:
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    return secret.encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,` signature of a body (UTF-8 JSON, as every delivery is)."""
    signer = Webhook(signing_key(secret))
    return signer.sign(message_id, datetime.fromtimestamp(timestamp, UTC), body.decode())


def headers(
    secrets: str | Sequence[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers; `webhook-signature` carries one signature per secret."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys:
        raise ValueError("no secret to sign with")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(key, message_id, timestamp, body) for key in keys),
    }
