"""Lead webhooks the emulator sends to subscriptions (TIKTOK_API.md §4).

Body: `{"object": 1, "time": <epoch s>, "entry": [...]}` with every id a bare 19-digit JSON
integer (Python writes ints exactly) and the answers as `changes[{field, value}]`, sent as
raw UTF-8. Signed per the world's `lead_signature` scheme over its `lead_signature_form`: the
body itself, or its unicode-escaped form (TIKTOK_API.md §5). Failures are reported, never
raised: TikTok would retry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from tiktok_emulator.business_seed import FakeLead
from tiktok_emulator.business_state import BusinessWorld, LeadDelivery, Outgoing
from tiktok_emulator.signing import (
    OPEN_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    sign_open_signature,
    sign_webhook,
    unicode_escaped,
)
from tiktok_emulator.webhooks import DELIVERY_TIMEOUT_SECONDS, post_once

LEAD_OBJECT = 1  # `object` 1 is a lead; TikTok uses other numbers for other entities
_MAX_KEPT_DELIVERIES = 200


def lead_entry(world: BusinessWorld, lead: FakeLead) -> dict[str, Any]:
    form = world.forms[lead.page_id]
    advertiser = world.advertisers[lead.advertiser_id]
    return {
        "id": int(lead.lead_id),
        "lead_source": "INSTANT_FORM",
        "page_id": int(form.page_id),
        "page_name": form.title,
        "advertiser_id": int(advertiser.advertiser_id),
        "advertiser_name": advertiser.advertiser_name,
        "campaign_id": int(lead.ad.campaign_id),
        "campaign_name": lead.ad.campaign_name,
        "adgroup_id": int(lead.ad.adgroup_id),
        "adgroup_name": lead.ad.adgroup_name,
        "ad_id": int(lead.ad.ad_id),
        "ad_name": lead.ad.ad_name,
        "library_id": 0,
        "create_time": lead.create_time,
        "changes": [
            {"field": question.field, "value": value}
            for question, value in zip(form.questions, lead.answers, strict=True)
        ],
    }


def leads_body(entries: Sequence[dict[str, Any]], now: int) -> bytes:
    document = {"object": LEAD_OBJECT, "time": now, "entry": list(entries)}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def signature_headers(world: BusinessWorld, body: bytes, now: int) -> dict[str, str]:
    secret = world.config.business_secret
    signed = unicode_escaped(body) if world.lead_signature_form == "unicode_escaped" else body
    if world.lead_signature == "open":
        return {OPEN_SIGNATURE_HEADER: sign_open_signature(secret, signed)}
    if world.lead_signature == "tiktok":
        return {SIGNATURE_HEADER: sign_webhook(secret, signed, now)}
    return {}


def plan(world: BusinessWorld, leads: Sequence[FakeLead], *, batch: bool) -> list[Outgoing]:
    """The POSTs that announce `leads`: per subscription, one batched body or one per lead."""
    now = int(world.now())
    by_subscription: dict[str, list[FakeLead]] = {}
    for lead in leads:
        for subscription in world.targets(lead):
            by_subscription.setdefault(subscription.subscription_id, []).append(lead)
    outgoing = []
    for subscription_id, targeted in by_subscription.items():
        url = world.subscriptions[subscription_id].callback_url
        groups = [targeted] if batch else [[lead] for lead in targeted]
        for group in groups:
            body = leads_body([lead_entry(world, lead) for lead in group], now)
            lead_ids = tuple(lead.lead_id for lead in group)
            outgoing.append(Outgoing(subscription_id, url, lead_ids, body))
    return outgoing


async def send(
    world: BusinessWorld, outgoing: Sequence[Outgoing], *, redelivery: bool = False
) -> list[LeadDelivery]:
    """POST each webhook once, in order; remembers them for redelivery and the log."""
    now = int(world.now())
    results = []
    # A client per event: a mounted sub-application gets no lifespan to own one.
    async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS) as client:
        for item in outgoing:
            headers = signature_headers(world, item.body, now)
            status_code, error = await post_once(client, item.url, item.body, headers)
            results.append(
                LeadDelivery(
                    subscription_id=item.subscription_id,
                    url=item.url,
                    lead_ids=item.lead_ids,
                    status_code=status_code,
                    error=error,
                    redelivery=redelivery,
                )
            )
    if outgoing:
        world.last_outgoing = list(outgoing)
    world.deliveries = [*world.deliveries, *results][-_MAX_KEPT_DELIVERIES:]
    return results


async def deliver_leads(
    world: BusinessWorld, leads: Sequence[FakeLead], *, batch: bool
) -> list[LeadDelivery]:
    """Announce new leads, but for the share the world drops (`drop_some`)."""
    return await send(world, plan(world, world.drop_some(leads), batch=batch))
