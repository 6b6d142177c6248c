"""No lead is lost when the CRM is down and the delivery worker dies: worker 1 (a real
`python -m app deliver` process) works through N leads while the CRM refuses connections,
then answers 503 slowly; it is killed with SIGKILL in the middle of a request; the CRM comes
back; worker 2 starts. Every lead reaches the CRM (duplicates allowed: at least once), and
every copy of a lead carries the same `webhook-id`, so the CRM can drop the duplicates.

`tests/test_leads_delivery.py::test_a_worker_killed_mid_request_loses_nothing` kills a
worker while a healthy CRM is slow to answer; this is the harder case of a CRM that is down
throughout the first worker's life. Both run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.events.models import DeliveryStatus
from tests.conftest import make_settings
from tests.crm_receiver import CrmReceiver
from tests.test_leads_delivery import (
    CRM_SECRET,
    all_delivered,
    deliveries,
    eventually,
    seed,
    stop,
    worker_process,
)

LEADS = 40
WORKER_ENV = {
    "CRM_DELIVERY_LEASE_SECONDS": "2",
    "CRM_DELIVERY_TIMEOUT_SECONDS": "1.5",
    "CRM_DELIVERY_BATCH_SIZE": "8",
    "CRM_DELIVERY_BACKOFF_BASE_SECONDS": "0.05",
    "CRM_DELIVERY_BACKOFF_CAP_SECONDS": "0.2",
}
DOWN_SECONDS = 1.0  # connection refused for this long, then 503s
WAIT_SECONDS = 45.0


class CrmDown(CrmReceiver):
    """The shared receiver, minus one noise: a request whose sender died before its body
    arrived (the SIGKILL) is a disconnect, not a body to parse; nothing is recorded."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        messages = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            messages.append(message)
            if not message.get("more_body"):
                break
        replay = iter(messages)

        async def received() -> Any:
            return next(replay)

        await super().__call__(scope, received, send)


@pytest.fixture
def crm_socket() -> Iterator[socket.socket]:
    """The CRM's address, bound but not listening yet: connections are refused."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock


@pytest.fixture
def receiver(crm_socket: socket.socket) -> CrmReceiver:
    port = crm_socket.getsockname()[1]
    return CrmDown(secret=CRM_SECRET, url=f"http://127.0.0.1:{port}/hooks/leads")


@pytest.fixture
def settings(database_url: str, receiver: CrmReceiver) -> Settings:
    return make_settings(
        database_url=database_url,
        crm_leads_webhook_url=receiver.url,
        crm_webhook_secret=CRM_SECRET,
    )


@contextmanager
def listening(receiver: CrmReceiver, sock: socket.socket) -> Iterator[None]:
    """Serve `receiver` on the already bound `sock` (tests/crm_receiver.serve binds its own)."""
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
        yield
    finally:
        server.should_exit = True
        thread.join(10)


async def test_a_worker_killed_while_the_crm_is_down_loses_no_lead(
    receiver: CrmReceiver,
    crm_socket: socket.socket,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tmp_path: Path,
) -> None:
    delivery_ids = set(await seed(sessionmaker, settings, LEADS))
    assert len(delivery_ids) == LEADS
    log = tmp_path / "workers.log"

    # The CRM is down: connection refused, then (listening) 503 after a slow second.
    first = worker_process(settings, log, **WORKER_ENV)
    try:

        async def refused_attempts_recorded() -> bool:
            assert first.poll() is None, log.read_text()
            rows = await deliveries(sessionmaker)
            return sum(1 for d in rows if d.attempts and d.last_error) >= 8

        await eventually(refused_attempts_recorded, WAIT_SECONDS)
        await asyncio.sleep(DOWN_SECONDS)
        receiver.delay = 1.0
        receiver.answers.extend([(503, {})] * 100_000)
        with listening(receiver, crm_socket):

            async def request_in_flight() -> bool:
                assert first.poll() is None, log.read_text()
                return len(receiver.received) > 8 and bool(receiver.in_flight)

            await eventually(request_in_flight, WAIT_SECONDS)
            with receiver.lock:
                interrupted = set(receiver.in_flight)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            assert first.returncode == -signal.SIGKILL
            assert interrupted

            refused_before = [d for d in await deliveries(sessionmaker) if d.last_error]
            assert refused_before, "worker 1 never met the CRM down"
            still_owed = [d for d in await deliveries(sessionmaker) if d.delivered_at is None]
            assert len(still_owed) == LEADS  # nothing was accepted while it was down

            # The CRM is back; a new worker takes over (after the dead one's leases lapse).
            with receiver.lock:
                receiver.answers.clear()
                receiver.delay = 0.02
                back_from = len(receiver.received)
            second = worker_process(settings, log, **WORKER_ENV)
            try:

                async def everything_delivered() -> bool:
                    assert second.poll() is None, log.read_text()
                    return await all_delivered(sessionmaker)

                await eventually(everything_delivered, WAIT_SECONDS)
            finally:
                stop(second)
    finally:
        stop(first)

    with receiver.lock:
        received = list(receiver.received)
    accepted = received[back_from:]  # every request after the CRM came back got a 200
    leads = {str(d.lead_id) for d in await deliveries(sessionmaker)}
    arrived = {item.body["data"]["id"] for item in accepted}
    assert arrived == leads
    assert {item.webhook_id for item in accepted} == delivery_ids
    assert all(item.verified for item in received)
    # One webhook-id per lead, the same on every copy (503'd, interrupted or accepted).
    ids_per_lead: dict[str, set[str]] = {}
    for item in received:
        ids_per_lead.setdefault(item.body["data"]["id"], set()).add(item.webhook_id)
    assert all(len(ids) == 1 for ids in ids_per_lead.values()), ids_per_lead
    assert len({next(iter(ids)) for ids in ids_per_lead.values()}) == LEADS
    for webhook_id in interrupted:
        assert receiver.times(webhook_id) >= 2  # sent again after the kill
    rows = await deliveries(sessionmaker)
    assert {d.status for d in rows} == {DeliveryStatus.delivered}
    print(
        f"\ndelivery crash: {LEADS} leads, {len(received)} requests "
        f"({len(received) - len(accepted)} while the CRM was down, {len(interrupted)} of them "
        f"interrupted by SIGKILL), {len(leads - arrived)} lost"
    )
