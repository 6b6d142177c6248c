"""The real application served over real HTTP, for end-to-end tests.

uvicorn runs in a background thread with its own event loop, so the test's loop (httpx,
Playwright) and the server's never block each other. The listening socket is bound to a
free port of 127.0.0.1 *before* the app is built, so the settings can name the server's
own URL (API_BASE_URL, FRONTEND_URL, and with them the emulator's and the callback's)
without a race for the port.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from app.core.config import Settings
from app.core.db import create_engine
from app.main import create_app
from app.models import Base

STARTUP_TIMEOUT = 15.0
SHUTDOWN_TIMEOUT = 15.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings  # as the app runs them (emulator URLs filled in)
    app: FastAPI


def _bind_free_port() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _wait_until(condition: Callable[[], bool], thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if not thread.is_alive():
            raise RuntimeError("the live server stopped during startup (see its log above)")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the live server did not start within {timeout:.0f}s")
        time.sleep(0.02)


@contextmanager
def serve(configure: Callable[[str], Settings]) -> Iterator[LiveServer]:
    """Serve `create_app(configure(url))` at `url` until the block exits.

    `configure` receives the server's base URL (`http://127.0.0.1:<port>`).
    """
    with closing(_bind_free_port()) as sock:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = create_app(configure(url))
        config = uvicorn.Config(
            app,
            lifespan="on",
            log_config=None,  # leave the test process's logging alone
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        # Not the main thread: uvicorn installs no signal handlers.
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True
        )
        thread.start()
        try:
            _wait_until(lambda: server.started, thread, STARTUP_TIMEOUT)
            yield LiveServer(url=url, settings=app.state.settings, app=app)
        finally:
            server.should_exit = True
            thread.join(SHUTDOWN_TIMEOUT)
            if thread.is_alive():
                raise RuntimeError(f"the live server did not stop within {SHUTDOWN_TIMEOUT:.0f}s")


async def delete_all_rows(settings: Settings) -> None:
    """Empty every table, children first, with an engine of the caller's event loop."""
    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(table.delete())
    finally:
        await engine.dispose()
