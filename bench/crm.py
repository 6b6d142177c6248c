"""A CRM that receives lead deliveries and counts them (B4), in its own process.

`uvicorn --factory bench.crm:create_app`. It answers 200 at once and remembers each
distinct `webhook-id` (the service's delivery id; a redelivery repeats it) with the time it
first arrived. `GET /stats` reports them; `POST /reset` forgets them. It does not verify
signatures: that is tested in tests/, and it would only slow the receiver down.
"""

from __future__ import annotations

import json
import time
from typing import Any

Scope = dict[str, Any]


class Receiver:
    def __init__(self) -> None:
        self.first_seen: dict[str, float] = {}
        self.received = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if scope["method"] == "POST" and scope["path"] == "/reset":
            self.first_seen.clear()
            self.received = 0
            answer: dict[str, Any] = {}
        elif scope["method"] == "POST":
            headers = dict(scope["headers"])
            webhook_id = headers.get(b"webhook-id", b"").decode()
            self.received += 1
            self.first_seen.setdefault(webhook_id, time.time())
            answer = {}
        else:
            last = max(self.first_seen.values(), default=None)
            answer = {"distinct": len(self.first_seen), "received": self.received, "last": last}
        body = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app() -> Receiver:
    return Receiver()
