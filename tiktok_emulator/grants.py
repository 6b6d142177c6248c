"""TikTok's side of OAuth: authorization codes, access and refresh tokens, PKCE.

Every code starts a grant; the tokens issued from it and from its refreshes share the grant
id, so revoking (or replaying the code) kills the whole family at once.

Refresh rotates: the presented refresh token dies immediately and a new pair is issued. The
previous access token keeps working until its own expiry, as TikTok's does: clients must
store the new pair, but requests already in flight with the old token do not fail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from tiktok_emulator.config import CODE_TTL_SECONDS, EmulatorConfig

_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


class OAuthError(Exception):
    """An OAuth failure, rendered as TikTok's flat `{"error", "error_description"}` body."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass
class AuthorizationCode:
    value: str
    grant_id: str
    client_key: str
    redirect_uri: str
    open_id: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    expires_at: float
    used: bool = False


@dataclass
class Token:
    value: str
    grant_id: str
    client_key: str
    open_id: str
    scopes: tuple[str, ...]
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class TokenPair:
    access: Token
    refresh: Token


class TokenRejected(Exception):
    """A Display API bearer token that is unknown, revoked or expired."""


def pkce_matches(verifier: str, challenge: str, *, allow_base64url: bool) -> bool:
    """TikTok's challenge is the lowercase hex SHA-256; RFC 7636's is unpadded base64url."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    if hmac.compare_digest(challenge.encode(), digest.hex().encode()):
        return True
    rfc7636 = base64.urlsafe_b64encode(digest).rstrip(b"=")
    return allow_base64url and hmac.compare_digest(challenge.encode(), rfc7636)


@dataclass
class GrantStore:
    config: EmulatorConfig
    now: Callable[[], float]
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    access_tokens: dict[str, Token] = field(default_factory=dict)
    refresh_tokens: dict[str, Token] = field(default_factory=dict)

    def authenticate_client(self, client_key: str | None, client_secret: str | None) -> str:
        """The client key, once client key and secret are checked."""
        if not client_key or not client_secret:
            raise OAuthError("invalid_client", "client_key and client_secret are required.")
        key_ok = hmac.compare_digest(client_key.encode(), self.config.client_key.encode())
        secret_ok = hmac.compare_digest(client_secret.encode(), self.config.client_secret.encode())
        if not (key_ok and secret_ok):
            raise OAuthError("invalid_client", "Client key or secret is invalid.")
        return client_key

    def issue_code(
        self,
        *,
        client_key: str,
        redirect_uri: str,
        open_id: str,
        scopes: tuple[str, ...],
        code_challenge: str | None,
    ) -> str:
        value = secrets.token_urlsafe(32)
        self.codes[value] = AuthorizationCode(
            value=value,
            grant_id=secrets.token_hex(8),
            client_key=client_key,
            redirect_uri=redirect_uri,
            open_id=open_id,
            scopes=scopes,
            code_challenge=code_challenge,
            expires_at=self.now() + CODE_TTL_SECONDS,
        )
        return value

    def exchange_code(
        self, client_key: str, code: str | None, redirect_uri: str | None, verifier: str | None
    ) -> TokenPair:
        if not code:
            raise OAuthError("invalid_request", "code is required.")
        if not redirect_uri:
            raise OAuthError("invalid_request", "redirect_uri is required.")
        issued = self.codes.get(code)
        if issued is None or issued.client_key != client_key:
            raise OAuthError("invalid_grant", "Authorization code is invalid.")
        if issued.used:
            # A replayed code may be stolen: kill what the first exchange issued (RFC 6749 4.1.2).
            self._revoke_grant(issued.grant_id)
            raise OAuthError("invalid_grant", "Authorization code has already been used.")
        if self.now() >= issued.expires_at:
            raise OAuthError("invalid_grant", "Authorization code has expired.")
        if redirect_uri != issued.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorize request.")
        if issued.code_challenge is not None:
            self._check_verifier(verifier, issued.code_challenge)
        issued.used = True
        return self._issue_pair(issued.grant_id, client_key, issued.open_id, issued.scopes)

    def refresh(self, client_key: str, refresh_token: str | None) -> TokenPair:
        if not refresh_token:
            raise OAuthError("invalid_request", "refresh_token is required.")
        current = self.refresh_tokens.get(refresh_token)
        if current is None or current.client_key != client_key or current.revoked:
            raise OAuthError("invalid_grant", "Refresh token is invalid or has been rotated.")
        if self.now() >= current.expires_at:
            raise OAuthError("invalid_grant", "Refresh token has expired.")
        current.revoked = True
        return self._issue_pair(current.grant_id, client_key, current.open_id, current.scopes)

    def revoke(self, client_key: str, access_token: str | None) -> None:
        """Revoke the grant an access token belongs to (its refresh token dies with it)."""
        if not access_token:
            raise OAuthError("invalid_request", "token is required.")
        token = self.access_tokens.get(access_token)
        if token is None or token.client_key != client_key or token.revoked:
            raise OAuthError("invalid_request", "The access token is invalid.")
        if self.now() >= token.expires_at:
            raise OAuthError("invalid_request", "The access token has expired; refresh it first.")
        self._revoke_grant(token.grant_id)

    def revoke_user(self, client_key: str, open_id: str) -> int:
        """Revoke a user's pending codes and live tokens; returns how many grants died."""
        for code in self.codes.values():
            if code.open_id == open_id and code.client_key == client_key:
                code.used = True
        grants: set[str] = set()
        for token in self._all_tokens():
            if token.open_id == open_id and token.client_key == client_key and not token.revoked:
                token.revoked = True
                grants.add(token.grant_id)
        return len(grants)

    def authenticate_bearer(self, access_token: str) -> Token:
        token = self.access_tokens.get(access_token)
        if token is None or token.revoked:
            raise TokenRejected("The access token is invalid or not found in the request.")
        if self.now() >= token.expires_at:
            raise TokenRejected("The access token has expired.")
        return token

    def live_token_count(self, open_id: str) -> int:
        now = self.now()
        return sum(
            1
            for token in self.access_tokens.values()
            if token.open_id == open_id and not token.revoked and now < token.expires_at
        )

    def _check_verifier(self, verifier: str | None, challenge: str) -> None:
        if not verifier:
            raise OAuthError("invalid_request", "code_verifier is required.")
        if not _VERIFIER.fullmatch(verifier):
            raise OAuthError("invalid_request", "code_verifier must be 43-128 unreserved chars.")
        allow_base64url = self.config.pkce_encoding == "any"
        if not pkce_matches(verifier, challenge, allow_base64url=allow_base64url):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge.")

    def _issue_pair(
        self, grant_id: str, client_key: str, open_id: str, scopes: tuple[str, ...]
    ) -> TokenPair:
        now = self.now()
        access = Token(
            value=f"act.{secrets.token_urlsafe(40)}",
            grant_id=grant_id,
            client_key=client_key,
            open_id=open_id,
            scopes=scopes,
            expires_at=now + self.config.access_token_ttl,
        )
        refresh = Token(
            value=f"rft.{secrets.token_urlsafe(40)}",
            grant_id=grant_id,
            client_key=client_key,
            open_id=open_id,
            scopes=scopes,
            expires_at=now + self.config.refresh_token_ttl,
        )
        self.access_tokens[access.value] = access
        self.refresh_tokens[refresh.value] = refresh
        return TokenPair(access=access, refresh=refresh)

    def _revoke_grant(self, grant_id: str) -> None:
        for token in self._all_tokens():
            if token.grant_id == grant_id:
                token.revoked = True

    def _all_tokens(self) -> list[Token]:
        return [*self.access_tokens.values(), *self.refresh_tokens.values()]
