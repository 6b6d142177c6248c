"""A local TikTok (Login Kit, Display API, Login Kit webhooks) for development and tests."""

from app.sandbox.app import create_emulator
from app.sandbox.config import EmulatorConfig
from app.sandbox.signing import sign_webhook
from app.sandbox.state import EmulatorState

__all__ = ["EmulatorConfig", "EmulatorState", "create_emulator", "sign_webhook"]
