"""Authentication of TikTok's lead webhooks, as a dependency (TIKTOK_API.md §4).

TikTok's public sources disagree on how lead webhooks are signed, so any one of these
admits a delivery:
- `X-Open-Signature`: hex HMAC-SHA256 of the raw body keyed by `TIKTOK_BUSINESS_SECRET`;
- `TikTok-Signature: t=<ts>,s=<hex>`: the Login Kit scheme (app.webhooks.signature) keyed
  by `TIKTOK_BUSINESS_SECRET`, within `TIKTOK_WEBHOOK_TOLERANCE_SECONDS`;
- `?token=` in the callback URL equal to `LEADGEN_WEBHOOK_TOKEN`.
Comparisons are constant-time. Anything else is a 401 and nothing is stored, so TikTok
retries and a configuration fix loses nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.api.deps import SettingsDep
from app.core.config import Settings
from app.core.errors import AppError
from app.leads.models import LeadWebhookAuth
from app.webhooks.signature import (
    SIGNATURE_HEADER,
    WebhookUnauthorized,
    WebhookVerifier,
    read_body,
)

OPEN_SIGNATURE_HEADER = "X-Open-Signature"
TOKEN_PARAMETER = "token"  # noqa: S105 - the query parameter's name


class LeadWebhookUnauthorized(WebhookUnauthorized):
    code = "leadgen_webhook_unauthorized"
    message = (
        "The lead webhook is not authenticated: it needs a valid X-Open-Signature, a valid "
        "TikTok-Signature or the callback URL's token."
    )


class LeadWebhookNotConfigured(AppError):
    status_code = 503
    code = "leadgen_webhook_not_configured"
    message = (
        "Lead webhooks cannot be authenticated: set TIKTOK_BUSINESS_SECRET or "
        "LEADGEN_WEBHOOK_TOKEN."
    )


@dataclass(frozen=True, slots=True)
class LeadWebhook:
    body: bytes
    auth_method: LeadWebhookAuth


def open_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def _secret(settings: Settings) -> str:
    """`TIKTOK_BUSINESS_SECRET`, or "" when unset."""
    secret = settings.tiktok_business_secret
    return secret.get_secret_value() if secret is not None else ""


def _url_token(settings: Settings) -> str:
    """`LEADGEN_WEBHOOK_TOKEN`, or "" when unset."""
    token = settings.leadgen_webhook_token
    return token.get_secret_value() if token is not None else ""


def authenticate(
    settings: Settings,
    headers: Mapping[str, str],
    token: str | None,
    body: bytes,
    clock: Callable[[], float] = time.time,
) -> LeadWebhookAuth:
    """How the delivery proved itself, or `LeadWebhookUnauthorized`."""
    secret = _secret(settings)
    if secret:
        given = headers.get(OPEN_SIGNATURE_HEADER)
        if given:
            candidate = given.strip().lower().removeprefix("sha256=")
            if _same(open_signature(secret, body), candidate):
                return LeadWebhookAuth.open_signature
        header = headers.get(SIGNATURE_HEADER)
        if header:
            verifier = WebhookVerifier(
                secret=secret,
                client_key=settings.tiktok_business_app_id or "",
                tolerance_seconds=settings.tiktok_webhook_tolerance_seconds,
                max_body_bytes=settings.leadgen_webhook_max_body_bytes,
                clock=clock,
            )
            try:
                verifier.verify(header, body)
            except WebhookUnauthorized:
                pass
            else:
                return LeadWebhookAuth.tiktok_signature
    expected = _url_token(settings)
    if expected and token is not None and _same(expected, token):
        return LeadWebhookAuth.url_token
    raise LeadWebhookUnauthorized


async def authenticated_lead_webhook(request: Request, settings: SettingsDep) -> LeadWebhook:
    # Headers and token are read here rather than declared as parameters: a missing or bad
    # credential is a 401 with our error code, never a 422 (the endpoint documents them).
    if not (_secret(settings) or _url_token(settings)):
        raise LeadWebhookNotConfigured
    body = await read_body(request, settings.leadgen_webhook_max_body_bytes)
    method = authenticate(
        settings, request.headers, request.query_params.get(TOKEN_PARAMETER), body
    )
    return LeadWebhook(body=body, auth_method=method)


LeadWebhookDep = Annotated[LeadWebhook, Depends(authenticated_lead_webhook)]
