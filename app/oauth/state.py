"""OAuth state that survives the trip to TikTok without a server-side session store.

Everything the callback needs (state, PKCE verifier, account, company, user, expiry) is
signed with itsdangerous into an HttpOnly cookie named after the state, so several
connects in flight (tabs, accounts) each have their own cookie and any replica can finish
the flow. Because browsers may drop cookies set by a cross-origin XHR, `connect` also
returns a first-party hop URL whose `ticket` is the same signed payload, encrypted (the
verifier must not be readable in a URL); the hop sets the cookie and redirects to TikTok.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.core.config import Settings
from app.core.http import API_PREFIX

OAUTH_PATH = f"{API_PREFIX}/accounts/oauth/"
COOKIE_PREFIX = "tt_oauth_"
_SALT = "tiktok-oauth-state-v1"
# How much longer the browser keeps a state cookie than the state inside it is valid: long
# enough that a late callback finds the cookie and is told `state_expired`.
STATE_COOKIE_GRACE_SECONDS = 3600


class StateError(Exception):
    """The callback's state cannot be trusted; `code` is the frontend's error code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OAuthState:
    state: str
    verifier: str | None
    account_id: str
    company_id: str
    user: str
    platform: str
    expires_at: float

    @property
    def account_uuid(self) -> uuid.UUID:
        return uuid.UUID(self.account_id)

    def __repr__(self) -> str:
        return f"OAuthState(account_id={self.account_id!r}, company_id={self.company_id!r})"


def new_state() -> str:
    return secrets.token_urlsafe(32)


def cookie_name(state: str) -> str:
    return COOKIE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:16]


def state_hash(state: str) -> str:
    return hashlib.sha256(b"consumed-state:" + state.encode()).hexdigest()


class StateCodec:
    def __init__(self, settings: Settings) -> None:
        secret = settings.secret_key.get_secret_value()
        self._ttl = settings.oauth_state_ttl_seconds
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        derived = hmac.new(secret.encode(), b"oauth-ticket-key", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    @property
    def ttl(self) -> int:
        return self._ttl

    def sign(self, payload: OAuthState) -> str:
        return self._serializer.dumps(asdict(payload))

    def ticket(self, cookie_value: str) -> str:
        return self._fernet.encrypt(cookie_value.encode()).decode()

    def open_ticket(self, ticket: str) -> str:
        try:
            return self._fernet.decrypt(ticket.encode(), ttl=self._ttl).decode()
        except InvalidToken as exc:
            raise StateError("invalid_state", "connect link is invalid or expired") from exc

    def peek_state(self, cookie_value: str) -> str | None:
        """The state inside a signed value (unverified; `verify` checks it)."""
        try:
            data = self._serializer.loads(cookie_value)
        except BadSignature:
            return None
        state = data.get("state") if isinstance(data, dict) else None
        return state if isinstance(state, str) else None

    def verify(self, cookie_value: str | None, state: str | None, now: datetime) -> OAuthState:
        if not state:
            raise StateError("invalid_state", "callback carries no state")
        if not cookie_value:
            raise StateError(
                "invalid_state",
                "state cookie missing: cookies blocked, another domain, or a different browser",
            )
        try:
            data = self._serializer.loads(cookie_value, max_age=self._ttl)
        except SignatureExpired as exc:
            raise StateError("state_expired", "the connect attempt took too long") from exc
        except BadSignature as exc:
            raise StateError("invalid_state", "state cookie signature is invalid") from exc
        try:
            payload = OAuthState(**data)
        except TypeError as exc:
            raise StateError("invalid_state", "state cookie is malformed") from exc
        if not hmac.compare_digest(payload.state.encode(), state.encode()):
            raise StateError("invalid_state", "state does not match the cookie")
        if payload.expires_at < now.timestamp():
            raise StateError("state_expired", "the connect attempt took too long")
        return payload
