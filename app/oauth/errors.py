"""Why a connect failed, as the browser is told (`?connected=false&error=CODE`; the table in
the README's "Connecting a TikTok account"). A code an API error also answers is that
error's (`AccountNotFound`, `TikTokCodeRejected`, `TikTokNotConfigured`, `TikTokError`);
TikTok's own refusal codes (`access_denied`, ...) are passed through."""

from __future__ import annotations

import enum


class ConnectError(enum.StrEnum):
    # The state cookie is missing, tampered with, replayed or of another attempt.
    invalid_state = "invalid_state"
    # The connect attempt took longer than the state is valid.
    state_expired = "state_expired"
    # A reconnect approved another TikTok user than the one linked.
    account_mismatch = "account_mismatch"
    # The TikTok user (or an advertiser) is linked to another account already.
    already_connected = "already_connected"
    # TikTok for Business authorized no advertiser.
    no_advertisers = "no_advertisers"
