"""A local TikTok (Login Kit, Display API, Login Kit webhooks, TikTok for Business advertiser
OAuth, lead forms, lead export and lead webhooks) for development and tests."""

from app.sandbox.app import create_emulator
from app.sandbox.config import EmulatorConfig
from app.sandbox.signing import sign_open_signature, sign_webhook
from app.sandbox.state import EmulatorState

__all__ = [
    "EmulatorConfig",
    "EmulatorState",
    "create_emulator",
    "sign_open_signature",
    "sign_webhook",
]
