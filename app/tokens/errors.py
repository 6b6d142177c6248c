"""Why an account has no usable token, beyond the account errors (`app.accounts.errors`)."""

from __future__ import annotations

import uuid

from app.accounts.errors import AccountNotFound, ReauthRequired


class TokenUnreadable(ReauthRequired):
    """A stored token that no configured key decrypts (corrupt, moved, or its key removed).

    Names the account, the token column and the `token_version` it was read at, so the
    account is flagged only while it still holds that very token.
    """

    message = "A stored token of this account cannot be decrypted; reconnect the account."

    def __init__(self, account_id: uuid.UUID, token_version: int, field: str, reason: str) -> None:
        super().__init__()
        self.account_id = account_id
        self.token_version = token_version
        self.field = field
        self.reason = reason


class AccountGone(AccountNotFound):
    """The account was deleted (or is another company's) when its token was asked for."""
