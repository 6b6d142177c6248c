"""The TikTok emulator served on its own, as a stand-in for TikTok across processes.

`uvicorn --factory bench.emulator:create_app`. The Display API's rate limit (600 requests a
minute per endpoint, as TikTok's) is lifted: the bench measures the service, not the quota.
Upstream latency is set through the emulator's own control API (`POST /_control/faults`
with `kind=latency` and a count larger than any run), so no wrapper is needed.

This file is the bench's one import of the emulator (`tiktok_emulator/`, beside `app/`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

CLIENT_KEY = "bench-client-key"
CLIENT_SECRET = "bench-client-secret"  # noqa: S105 - the local emulator's own
BUSINESS_APP_ID = "bench-business-app"
BUSINESS_SECRET = "bench-business-secret"  # noqa: S105 - the local emulator's own
UNLIMITED = 10**9


def create_app() -> FastAPI:
    # Imported here: the bench process itself only needs the constants above, and must not
    # import the service's code (it may be a snapshot of another ref, see --app-ref).
    from tiktok_emulator import EmulatorConfig, create_emulator

    return create_emulator(
        EmulatorConfig(
            client_key=CLIENT_KEY,
            client_secret=CLIENT_SECRET,
            business_app_id=BUSINESS_APP_ID,
            business_secret=BUSINESS_SECRET,
            rate_limit_per_minute=UNLIMITED,
        )
    )
