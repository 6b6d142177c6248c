"""Authentication of TikTok's lead webhooks, as a dependency (TIKTOK_API.md §4).

TikTok's public sources disagree on how lead webhooks are signed, so any one of these
admits a delivery:
- `X-Open-Signature`: hex HMAC-SHA256 of the body keyed by `TIKTOK_BUSINESS_SECRET`;
- `TikTok-Signature: t=<ts>,s=<hex>`: the Login Kit scheme (app.webhooks.signature) keyed
  by `TIKTOK_BUSINESS_SECRET`, within `TIKTOK_WEBHOOK_TOLERANCE_SECONDS`;
- `?token=` in the callback URL equal to `LEADGEN_WEBHOOK_TOKEN`.
Both signatures may cover the body as received (`raw`) or its `unicode_escaped` form:
TikTok may sign the payload with every non-ASCII character written as `\\uXXXX` while
sending raw UTF-8 (TIKTOK_API.md §5). The escaped form is derived from the received bytes
(never a re-serialization, so key order and spacing stay). Comparisons are constant-time.
Anything else is a 401 and nothing is stored, so TikTok retries and a configuration fix
loses nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from operator import itemgetter
from typing import Annotated

from fastapi import Depends, Request

from app.api.deps import SettingsDep
from app.core.config import Settings
from app.core.errors import AppError
from app.webhooks.models import LeadSignatureForm, LeadWebhookAuth
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
class LeadWebhookCredential:
    """How a delivery proved itself: the method, and for a signature which bytes it covered."""

    method: LeadWebhookAuth
    signature_form: LeadSignatureForm | None = None


@dataclass(frozen=True, slots=True)
class LeadWebhook:
    body: bytes
    auth_method: LeadWebhookAuth
    signature_form: LeadSignatureForm | None = None


# Splitting on runs of non-ASCII characters and escaping each run with json's C encoder
# keeps the worst case (an 8 MiB body alternating ASCII and non-ASCII) well under a second.
_NON_ASCII_RUNS = re.compile(r"([^\x00-\x7f]+)")
_UNQUOTE = itemgetter(slice(1, -1))


def unicode_escape(text: str) -> str:
    """`text` with every non-ASCII character as `\\uXXXX` (lowercase hex; a surrogate pair
    above U+FFFF, `🎯` → `\\ud83c\\udfaf`) and every ASCII character left as it is."""
    parts = _NON_ASCII_RUNS.split(text)
    # A run holds no quote, backslash or control character: json writes only \\uXXXX there.
    parts[1::2] = map(_UNQUOTE, map(encode_basestring_ascii, parts[1::2]))
    return "".join(parts)


def unicode_escaped_body(body: bytes) -> bytes | None:
    """The body's `unicode_escaped` form, or None when there is no other form to try: an
    ASCII body (the same bytes) or one that is not UTF-8."""
    if body.isascii():
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return unicode_escape(text).encode("ascii")


class SignedForms:
    """The bytes a signature may cover, `raw` first; the escaped form is computed once, and
    only when a raw one did not verify."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self._escaped: bytes | None = None
        self._escaped_done = False

    def __iter__(self) -> Iterator[tuple[LeadSignatureForm, bytes]]:
        yield LeadSignatureForm.raw, self.body
        if not self._escaped_done:
            self._escaped = unicode_escaped_body(self.body)
            self._escaped_done = True
        if self._escaped is not None:
            yield LeadSignatureForm.unicode_escaped, self._escaped


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


def _open_signature_form(secret: str, given: str, forms: SignedForms) -> LeadSignatureForm | None:
    """The form `X-Open-Signature` covers, if any."""
    candidate = given.strip().lower().removeprefix("sha256=")
    for form, signed in forms:
        if _same(open_signature(secret, signed), candidate):
            return form
    return None


def _tiktok_signature_form(
    verifier: WebhookVerifier, header: str, forms: SignedForms
) -> LeadSignatureForm | None:
    """The form `TikTok-Signature` covers, its timestamp within the tolerance, if any."""
    for form, signed in forms:
        try:
            verifier.verify(header, signed)
        except WebhookUnauthorized:
            continue
        return form
    return None


def authenticate(
    settings: Settings,
    headers: Mapping[str, str],
    token: str | None,
    body: bytes,
    clock: Callable[[], float] = time.time,
) -> LeadWebhookCredential:
    """How the delivery proved itself, or `LeadWebhookUnauthorized`."""
    secret = _secret(settings)
    if secret:
        forms = SignedForms(body)
        given = headers.get(OPEN_SIGNATURE_HEADER)
        if given:
            form = _open_signature_form(secret, given, forms)
            if form is not None:
                return LeadWebhookCredential(LeadWebhookAuth.open_signature, form)
        header = headers.get(SIGNATURE_HEADER)
        if header:
            verifier = WebhookVerifier(
                secret=secret,
                client_key=settings.tiktok_business_app_id or "",
                tolerance_seconds=settings.tiktok_webhook_tolerance_seconds,
                max_body_bytes=settings.leadgen_webhook_max_body_bytes,
                clock=clock,
            )
            form = _tiktok_signature_form(verifier, header, forms)
            if form is not None:
                return LeadWebhookCredential(LeadWebhookAuth.tiktok_signature, form)
    expected = _url_token(settings)
    if expected and token is not None and _same(expected, token):
        return LeadWebhookCredential(LeadWebhookAuth.url_token)
    raise LeadWebhookUnauthorized


async def authenticated_lead_webhook(request: Request, settings: SettingsDep) -> LeadWebhook:
    # Headers and token are read here rather than declared as parameters: a missing or bad
    # credential is a 401 with our error code, never a 422 (the endpoint documents them).
    if not (_secret(settings) or _url_token(settings)):
        raise LeadWebhookNotConfigured
    body = await read_body(request, settings.leadgen_webhook_max_body_bytes)
    credential = authenticate(
        settings, request.headers, request.query_params.get(TOKEN_PARAMETER), body
    )
    return LeadWebhook(
        body=body, auth_method=credential.method, signature_form=credential.signature_form
    )


LeadWebhookDep = Annotated[LeadWebhook, Depends(authenticated_lead_webhook)]
