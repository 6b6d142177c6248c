"""A stored token that does not decrypt: read it or say so, and flag the account for it.

No retry brings such a token back (its key is gone or the value is corrupt), so the account
becomes `reauth_required` with a log entry that says which token and why. The flag is set
only while the account still holds the token that failed: a reconnect in between wins.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import lifecycle, repository
from app.accounts.models import AccountStatus, IntegrationAccount
from app.core.crypto import DecryptionError, TokenCipher
from app.tokens.errors import TokenUnreadable
from app.tokens.store import ACCESS, REFRESH

logger = logging.getLogger("app.tokens")

ERROR_CODE = "token_unreadable"
_LABELS = {ACCESS: "access token", REFRESH: "refresh token"}


def read(account: IntegrationAccount, cipher: TokenCipher, field: str) -> str | None:
    """The decrypted token of `field` (None when there is none), else `TokenUnreadable`."""
    ciphertext = (
        account.access_token_ciphertext if field == ACCESS else account.refresh_token_ciphertext
    )
    if ciphertext is None:
        return None
    try:
        return cipher.decrypt(ciphertext, account_id=account.id, field=field)
    except DecryptionError as exc:
        logger.error(
            "stored token does not decrypt",
            extra={"account_id": str(account.id), "field": field, "reason": str(exc)},
        )
        raise TokenUnreadable(account.id, account.token_version, field, str(exc)) from exc


async def flag(session: AsyncSession, error: TokenUnreadable) -> bool:
    """Under the account's row lock: a connected account still holding the unreadable token
    becomes `reauth_required`, logged; True when it was flagged."""
    account = await repository.lock_by_id(session, error.account_id)
    if (
        account is None
        or account.status != AccountStatus.connected
        or account.token_version != error.token_version
    ):
        return False
    label = _LABELS.get(error.field, error.field)
    lifecycle.reauth_required(
        session,
        account,
        error_code=ERROR_CODE,
        audit_event="token.unreadable",
        message=f"The stored {label} cannot be decrypted ({error.reason}): its key is no "
        "longer configured or the stored value is damaged. Reconnect the account.",
        data={"field": error.field, "reason": error.reason},
    )
    return True
