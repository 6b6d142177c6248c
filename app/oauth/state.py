"""OAuth state that survives the trip to TikTok without a server-side session store.

Everything the callback needs (state, PKCE verifier, account, company, user, expiry) is
signed with itsdangerous into an HttpOnly cookie named after the state, so several
connects in flight (tabs, accounts) each have their own cookie and any replica can finish
the flow. Because browsers may drop cookies set by a cross-origin XHR, `connect` also
returns a first-party hop URL whose `ticket` is the same signed payload, encrypted (the
verifier must not be readable in a URL); the hop sets the cookie and redirects to TikTok.

A popup's state also carries, signed, its mode and the checked origin its page posts to
(`<random>.<signed [mode, origin]>`): when the browser comes back without the cookie (the
common cross-site failure), the callback can still answer the opener, at that origin only.
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
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)

from app.core.config import Settings
from app.core.http import API_PREFIX
from app.oauth.errors import ConnectError

OAUTH_PATH = f"{API_PREFIX}/accounts/oauth/"
COOKIE_PREFIX = "tt_oauth_"
_SALT = "tiktok-oauth-state-v1"
_RETURN_SALT = "tiktok-oauth-return-v1"
# Between a state's random part and its signed return part (neither random part of
# `secrets.token_urlsafe` contains one).
_RETURN_SEPARATOR = "."
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
    # Where the browser returns (`app.oauth.returns`): a checked `return_to` (None: the
    # default) and the mode. Defaults keep states signed before these existed valid.
    return_to: str | None = None
    mode: str = "redirect"

    @property
    def account_uuid(self) -> uuid.UUID:
        return uuid.UUID(self.account_id)

    def __repr__(self) -> str:
        return f"OAuthState(account_id={self.account_id!r}, company_id={self.company_id!r})"


@dataclass(frozen=True, slots=True)
class SignedReturn:
    """What a state's signed part says: the mode and the origin checked at connect."""

    mode: str
    origin: str


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
        self._returns = URLSafeSerializer(secret, salt=_RETURN_SALT)
        derived = hmac.new(secret.encode(), b"oauth-ticket-key", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    @property
    def ttl(self) -> int:
        return self._ttl

    def new_state(self, mode: str, origin: str | None) -> str:
        """A fresh state; with `origin` (a popup's, checked by the caller) it also carries
        the mode and that origin, signed, for a callback that arrives without its cookie."""
        state = new_state()
        if origin is None:
            return state
        return f"{state}{_RETURN_SEPARATOR}{self._returns.dumps([mode, origin])}"

    def signed_return(self, state: str | None) -> SignedReturn | None:
        """The signed return part of `state`, if it has a valid one. Only to choose where
        the browser returns (the origin is checked again there); it proves nothing else."""
        if not state or _RETURN_SEPARATOR not in state:
            return None
        try:
            data = self._returns.loads(state.partition(_RETURN_SEPARATOR)[2])
        except BadSignature:
            return None
        if not (isinstance(data, list) and len(data) == 2):
            return None
        mode, origin = data
        if not (isinstance(mode, str) and isinstance(origin, str)):
            return None
        return SignedReturn(mode, origin)

    def sign(self, payload: OAuthState) -> str:
        return self._serializer.dumps(asdict(payload))

    def ticket(self, cookie_value: str) -> str:
        return self._fernet.encrypt(cookie_value.encode()).decode()

    def open_ticket(self, ticket: str) -> str:
        try:
            return self._fernet.decrypt(ticket.encode(), ttl=self._ttl).decode()
        except InvalidToken as exc:
            raise StateError(
                ConnectError.invalid_state, "connect link is invalid or expired"
            ) from exc

    def ticket_payload(self, ticket: str) -> OAuthState | None:
        """The signed payload inside a ticket, however old. Only to choose where the
        browser returns; `open_ticket` and `verify` decide whether the connect may go on."""
        try:
            cookie_value = self._fernet.decrypt(ticket.encode()).decode()
        except (InvalidToken, UnicodeDecodeError):
            return None
        return self.signed_payload(cookie_value, self.peek_state(cookie_value))

    def peek_state(self, cookie_value: str) -> str | None:
        """The state inside a signed value (unverified; `verify` checks it)."""
        try:
            data = self._serializer.loads(cookie_value)
        except BadSignature:
            return None
        state = data.get("state") if isinstance(data, dict) else None
        return state if isinstance(state, str) else None

    def signed_payload(self, cookie_value: str | None, state: str | None) -> OAuthState | None:
        """The payload of a validly signed cookie for `state`, expired or not. Only to
        choose where the browser returns; `verify` decides whether the connect may finish."""
        if not cookie_value or not state:
            return None
        try:
            payload = OAuthState(**self._serializer.loads(cookie_value))
        except (BadSignature, TypeError):
            return None
        return payload if hmac.compare_digest(payload.state.encode(), state.encode()) else None

    def verify(self, cookie_value: str | None, state: str | None, now: datetime) -> OAuthState:
        if not state:
            raise StateError(ConnectError.invalid_state, "callback carries no state")
        if not cookie_value:
            raise StateError(
                ConnectError.invalid_state,
                "state cookie missing: cookies blocked, another domain, or a different browser",
            )
        try:
            data = self._serializer.loads(cookie_value, max_age=self._ttl)
        except SignatureExpired as exc:
            raise StateError(
                ConnectError.state_expired, "the connect attempt took too long"
            ) from exc
        except BadSignature as exc:
            raise StateError(
                ConnectError.invalid_state, "state cookie signature is invalid"
            ) from exc
        try:
            payload = OAuthState(**data)
        except TypeError as exc:
            raise StateError(ConnectError.invalid_state, "state cookie is malformed") from exc
        if not hmac.compare_digest(payload.state.encode(), state.encode()):
            raise StateError(ConnectError.invalid_state, "state does not match the cookie")
        if payload.expires_at < now.timestamp():
            raise StateError(ConnectError.state_expired, "the connect attempt took too long")
        return payload
