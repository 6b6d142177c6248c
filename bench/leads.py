"""B4: one TikTok for Business lead webhook carrying 1,000 leads, on PostgreSQL.

The advertiser belongs to an ads account connected through the real flow, so every lead is
the company's and is delivered to the CRM (the receiver in bench/crm.py). The body is signed
with `X-Open-Signature` (hex HMAC-SHA256 of the body with the business secret), as the
emulator signs by default. Measured: time until the 200, and time until the CRM has
received every lead (the delivery worker runs every CRM_DELIVERY_INTERVAL_SECONDS, 2 s by
default, so up to one interval of that is waiting for the next pass).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from bench import flows
from bench.emulator import BUSINESS_SECRET
from bench.stack import Stack

WEBHOOK_PATH = "/api/integrations/webhooks/tiktok-leadgen/"
COMPANY = "bench-leads"
POLL_SECONDS = 0.05
_LEAD_ID_BASE = 7_300_000_000_000_000_000


@dataclass
class LeadBatch:
    leads: int
    status: int
    new: int | None
    ack_seconds: float
    delivered: int
    delivered_seconds: float | None  # None: not all delivered before the timeout
    # The service's CPU time until then: the work done, whatever CPU the machine left it.
    ack_cpu_seconds: float
    delivered_cpu_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Advertiser:
    advertiser_id: str
    page_id: str


async def prepare(stack: Stack) -> Advertiser:
    async with (
        httpx.AsyncClient(base_url=stack.service_pg.url, timeout=flows.TIMEOUT) as api,
        httpx.AsyncClient(base_url=stack.emulator.url, timeout=flows.TIMEOUT) as emulator,
    ):
        listing = (await emulator.get("/_control/business/advertisers")).json()
        first = listing["advertisers"][0]
        await flows.connect_ads(api, emulator, COMPANY, first["advertiser_id"])
    return Advertiser(first["advertiser_id"], first["forms"][0]["page_id"])


def lead_body(advertiser: Advertiser, count: int, first_id: int) -> bytes:
    """TikTok's lead webhook body: ids as bare 19-digit integers, answers as `changes`."""
    entries = [
        {
            "id": first_id + index,
            "lead_source": "INSTANT_FORM",
            "page_id": int(advertiser.page_id),
            "page_name": "Bench offer",
            "advertiser_id": int(advertiser.advertiser_id),
            "advertiser_name": "Bench",
            "campaign_id": 1800000000000000001,
            "campaign_name": "Bench campaign",
            "adgroup_id": 1700000000000000001,
            "adgroup_name": "g",
            "ad_id": 1600000000000000001,
            "ad_name": "a",
            "create_time": int(time.time()),
            "changes": [
                {"field": "name", "value": f"Lead {index}"},
                {"field": "email", "value": f"lead{first_id + index}@example.com"},
                {"field": "phone_number", "value": f"1508{index:07d}"},
            ],
        }
        for index in range(count)
    ]
    document = {"object": 1, "time": int(time.time()), "entry": entries}
    return json.dumps(document, separators=(",", ":")).encode()


async def one_batch(
    stack: Stack, advertiser: Advertiser, *, leads: int, round_index: int, give_up_after: float
) -> LeadBatch:
    body = lead_body(advertiser, leads, _LEAD_ID_BASE + round_index * 1_000_000)
    signature = hmac.new(BUSINESS_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Open-Signature": signature}
    async with (
        httpx.AsyncClient(base_url=stack.service_pg.url, timeout=give_up_after) as api,
        httpx.AsyncClient(base_url=stack.crm.url, timeout=flows.TIMEOUT) as crm,
    ):
        (await crm.post("/reset")).raise_for_status()
        service = stack.service_pg
        cpu_before = service.cpu_seconds()
        sent_at = time.time()
        response = await api.post(WEBHOOK_PATH, content=body, headers=headers)
        ack = time.time() - sent_at
        ack_cpu = service.cpu_seconds() - cpu_before
        stats: dict[str, Any] = {"distinct": 0, "last": None}
        while time.time() - sent_at < give_up_after:
            stats = (await crm.get("/stats")).json()
            if stats["distinct"] >= leads or response.status_code != 200:
                break
            await asyncio.sleep(POLL_SECONDS)
        delivered_cpu = service.cpu_seconds() - cpu_before
    done = stats["distinct"] >= leads and stats["last"] is not None
    return LeadBatch(
        leads=leads,
        status=response.status_code,
        new=response.json().get("new") if response.status_code == 200 else None,
        ack_seconds=round(ack, 3),
        delivered=stats["distinct"],
        delivered_seconds=round(stats["last"] - sent_at, 3) if done else None,
        ack_cpu_seconds=round(ack_cpu, 3),
        delivered_cpu_seconds=round(delivered_cpu, 3),
    )
