"""Putting tokens on an account (encrypted) and taking them off again."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.accounts.models import IntegrationAccount
from app.core.crypto import TokenCipher
from app.tiktok.schemas import TokenSet

ACCESS = "access_token"
REFRESH = "refresh_token"


def store_tokens(
    account: IntegrationAccount, tokens: TokenSet, cipher: TokenCipher, now: datetime
) -> None:
    """Encrypt and store a token set; lifetimes come from TikTok's answer, never constants."""
    account.access_token_ciphertext = cipher.encrypt(
        tokens.access_token.get_secret_value(), account_id=account.id, field=ACCESS
    )
    account.refresh_token_ciphertext = cipher.encrypt(
        tokens.refresh_token.get_secret_value(), account_id=account.id, field=REFRESH
    )
    account.access_token_expires_at = now + timedelta(seconds=tokens.expires_in)
    account.refresh_token_expires_at = now + timedelta(seconds=tokens.refresh_expires_in)
    if tokens.scopes:
        account.granted_scopes = ",".join(tokens.scopes)
    account.token_version += 1


def wipe_tokens(account: IntegrationAccount) -> None:
    account.access_token_ciphertext = None
    account.refresh_token_ciphertext = None
    account.access_token_expires_at = None
    account.refresh_token_expires_at = None
    account.token_version += 1


def access_token(account: IntegrationAccount, cipher: TokenCipher) -> str | None:
    if account.access_token_ciphertext is None:
        return None
    return cipher.decrypt(account.access_token_ciphertext, account_id=account.id, field=ACCESS)


def refresh_token(account: IntegrationAccount, cipher: TokenCipher) -> str | None:
    if account.refresh_token_ciphertext is None:
        return None
    return cipher.decrypt(account.refresh_token_ciphertext, account_id=account.id, field=REFRESH)
