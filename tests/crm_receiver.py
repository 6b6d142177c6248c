"""A CRM that verifies and records every delivery, served over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side, written from the spec (not from app code)."""
    key = (
        base64.b64decode(secret[len("whsec_") :])
        if secret.startswith("whsec_")
        else secret.encode()
    )
    message_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > 300:
        return False
    signed = f"{message_id}.{stamp}.{body.decode()}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(candidate.partition(",")[2], expected)
        for candidate in headers["webhook-signature"].split()
        if candidate.startswith("v1,")
    )


@dataclass
class Received:
    webhook_id: str
    verified: bool
    body: dict[str, Any]


@dataclass
class CrmReceiver:
    secret: str
    url: str = ""
    delay: float = 0.0
    # Scripted answers (status, headers) for the next requests; then 200.
    answers: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    in_flight: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        webhook_id = headers.get("webhook-id", "")
        with self.lock:
            self.received.append(
                Received(
                    webhook_id,
                    verify_standard_webhook(self.secret, headers, body),
                    json.loads(body),
                )
            )
            self.in_flight.add(webhook_id)
            status, extra = self.answers.popleft() if self.answers else (200, {})
        try:
            await asyncio.sleep(self.delay)
        finally:
            with self.lock:
                self.in_flight.discard(webhook_id)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in extra.items()],
            }
        )
        await send({"type": "http.response.body", "body": b"ok" if status < 300 else b"nope"})

    def ids(self) -> set[str]:
        with self.lock:
            return {item.webhook_id for item in self.received}

    def times(self, webhook_id: str) -> int:
        with self.lock:
            return sum(1 for item in self.received if item.webhook_id == webhook_id)


@contextmanager
def serve(receiver: CrmReceiver) -> Iterator[CrmReceiver]:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hooks/leads"
        config = uvicorn.Config(
            receiver, lifespan="off", log_config=None, log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the CRM receiver did not start"
            time.sleep(0.01)
        try:
            yield receiver
        finally:
            server.should_exit = True
            thread.join(10)
