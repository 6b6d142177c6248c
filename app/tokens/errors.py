"""Why an account has no usable token: the errors of the token layer, for both platforms."""

from __future__ import annotations

import uuid

from app.core.errors import Conflict, NotFound


class AccountNotConnected(Conflict):
    code = "account_not_connected"
    message = "The account is not connected to TikTok; connect it first."


class ReauthRequired(Conflict):
    code = "reauth_required"
    message = "TikTok no longer accepts this account's tokens; reconnect the account."


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


class NotALoginKitAccount(Conflict):
    code = "wrong_platform"
    message = "This is a TikTok for Business account; it has no TikTok profile or videos."


class NotAnAdsAccount(Conflict):
    code = "wrong_platform"
    message = "This account is not a TikTok for Business (tiktok_ads) account."


class AccountGone(NotFound):
    code = "account_not_found"
    message = "No such integration account."
