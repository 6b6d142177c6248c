"""A local TikTok (Login Kit, Display API, Login Kit webhooks, TikTok for Business advertiser
OAuth, lead forms, lead export and lead webhooks) for development and tests."""

from tiktok_emulator.app import create_emulator
from tiktok_emulator.config import EmulatorConfig
from tiktok_emulator.signing import sign_open_signature, sign_webhook
from tiktok_emulator.state import EmulatorState

__all__ = [
    "EmulatorConfig",
    "EmulatorState",
    "create_emulator",
    "sign_open_signature",
    "sign_webhook",
]
