"""The TikTok emulator on its own, as a process of its own, so that several service
processes share one TikTok: `python -m uvicorn --factory
tests.reliability.emulator_process:emulator --port N`."""

from __future__ import annotations

from fastapi import FastAPI

from tiktok_emulator import EmulatorConfig, create_emulator

CLIENT_KEY = "reliability-client-key"
CLIENT_SECRET = "reliability-client-secret"


def emulator() -> FastAPI:
    # No redirect allow list: each service's own callback URL (its own port) is accepted.
    return create_emulator(EmulatorConfig(client_key=CLIENT_KEY, client_secret=CLIENT_SECRET))
