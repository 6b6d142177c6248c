"""One pass of the webhook inbox job against a live server's database.

The e2e servers run with background jobs off, so a test that needs a stored webhook applied
runs the pass the in-process job (or `python -m app worker`) would run.
"""

from __future__ import annotations

from app.core.db import create_engine, create_sessionmaker
from app.events import outbox
from app.runtime import inbox_handlers
from app.webhooks.jobs import process_new_events
from tests.live_server import LiveServer


async def apply_stored_webhooks(server: LiveServer) -> int:
    engine = create_engine(server.settings)
    sessionmaker = create_sessionmaker(engine)
    # As the runtime's: its events get their CRM deliveries when a CRM URL is configured.
    outbox.configure(sessionmaker, server.settings)
    try:
        return await process_new_events(sessionmaker, inbox_handlers(server.settings))
    finally:
        await engine.dispose()
