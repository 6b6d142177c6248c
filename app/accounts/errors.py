"""Why a request about an account cannot go on: the account errors, each code defined here
once. Any package may raise them (the token layer, profile, ads, connect); subclasses only
say it more precisely, with the same code."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound
from app.tiktok.errors import TikTokReauthRequired


class AccountNotFound(NotFound):
    """No such account, or another company's (a 404 either way)."""

    code = "account_not_found"
    message = "No such integration account."


class AccountNotConnected(Conflict):
    code = "account_not_connected"
    message = "The account is not connected to TikTok; connect it first."


class ReauthRequired(Conflict):
    # The code of TikTok's own refusal: the client sees one code whichever layer noticed.
    code = TikTokReauthRequired.code
    message = "TikTok no longer accepts this account's tokens; reconnect the account."


class WrongPlatform(Conflict):
    code = "wrong_platform"
    message = "This account's platform cannot do that."


class NotALoginKitAccount(WrongPlatform):
    message = "This is a TikTok for Business account; it has no TikTok profile or videos."


class NotAnAdsAccount(WrongPlatform):
    message = "This account is not a TikTok for Business (tiktok_ads) account."
