"""Putting tokens on an account (encrypted) and taking them off again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import SecretStr

from app.accounts.models import IntegrationAccount
from app.core.crypto import TokenCipher

ACCESS = "access_token"
REFRESH = "refresh_token"


class IssuedTokens(Protocol):
    """What a token grant answered, whichever platform: Login Kit's `TokenSet` always has
    every field; a TikTok for Business token may have no expiry and no refresh token."""

    @property
    def access_token(self) -> SecretStr: ...
    @property
    def refresh_token(self) -> SecretStr | None: ...
    @property
    def expires_in(self) -> int | None: ...
    @property
    def refresh_expires_in(self) -> int | None: ...
    @property
    def scopes(self) -> Sequence[str]: ...


def store_tokens(
    account: IntegrationAccount,
    tokens: IssuedTokens,
    cipher: TokenCipher,
    now: datetime,
    *,
    refreshed: bool = False,
) -> None:
    """Encrypt and store a token set; lifetimes come from TikTok's answer, never constants.

    No `expires_in`: the access token does not expire (a long-term TikTok for Business
    token). No refresh token: after a grant the account has none; after a refresh
    (`refreshed`) the one it has stays, since TikTok did not replace it.
    """
    account.access_token_ciphertext = cipher.encrypt(
        tokens.access_token.get_secret_value(), account_id=account.id, field=ACCESS
    )
    account.access_token_expires_at = _after(now, tokens.expires_in)
    if tokens.refresh_token is not None:
        account.refresh_token_ciphertext = cipher.encrypt(
            tokens.refresh_token.get_secret_value(), account_id=account.id, field=REFRESH
        )
        account.refresh_token_expires_at = _after(now, tokens.refresh_expires_in)
    elif not refreshed:
        account.refresh_token_ciphertext = None
        account.refresh_token_expires_at = None
    if tokens.scopes:
        account.granted_scopes = ",".join(tokens.scopes)
    account.token_version += 1


def _after(now: datetime, seconds: int | None) -> datetime | None:
    return None if seconds is None else now + timedelta(seconds=seconds)


def wipe_tokens(account: IntegrationAccount) -> None:
    account.access_token_ciphertext = None
    account.refresh_token_ciphertext = None
    account.access_token_expires_at = None
    account.refresh_token_expires_at = None
    account.token_version += 1
