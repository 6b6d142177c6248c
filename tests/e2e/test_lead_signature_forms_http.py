"""Lead webhooks signed over the unicode-escaped payload, end to end over real HTTP.

The built-in emulator is switched to sign the payload with non-ASCII characters escaped as
`\\uXXXX` while it sends raw UTF-8 (TIKTOK_API.md §5); leads with Arabic, accented and emoji
names still reach the CRM's lead list, and each delivery row says which form matched.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.flow import stored_rows
from tests.e2e.test_ads_flow_http import (
    BUSINESS,
    _clients,
    _connect,
    _emulated_advertiser,
    _leads,
    _serving,
)

NAMES = ("محمد عبد الله", "José Núñez Peña", "Chris 🎯")


async def test_leads_signed_over_the_unicode_escaped_payload_are_accepted_and_recorded(
    database_url: str,
) -> None:
    async with _serving(database_url) as server, _clients(server) as (api, browser):
        advertiser = await _emulated_advertiser(browser)
        advertiser_id = advertiser["advertiser_id"]
        page_id = advertiser["forms"][1]["page_id"]
        await _connect(server, api, browser, advertiser_id)

        submitted: dict[str, str] = {}
        for scheme, form, name in [
            ("open", "raw", NAMES[0]),
            ("open", "unicode_escaped", NAMES[0]),
            ("open", "unicode_escaped", NAMES[1]),
            ("tiktok", "unicode_escaped", NAMES[2]),
        ]:
            mode = {"lead_signature": scheme, "signature_form": form}
            changed = await browser.patch(f"{BUSINESS}/signing", json=mode)
            assert changed.status_code == 200, changed.text
            assert changed.json() == mode
            body: dict[str, Any] = {"advertiser_id": advertiser_id, "page_id": page_id}
            response = await browser.post(f"{BUSINESS}/leads", json=body | {"name": name})
            assert response.status_code == 201, response.text
            created = response.json()
            assert [d["status_code"] for d in created["deliveries"]] == [200], created
            (lead_id,) = created["lead_ids"]
            submitted[lead_id] = name

        leads = {lead["tiktok_lead_id"]: lead for lead in await _leads(api)}
        assert {lead_id: leads[lead_id]["name"] for lead_id in submitted} == submitted
        inbox = (await stored_rows(server.settings))["tiktok_webhook_events"]
        rows = [row for row in inbox if row["source"] == "tiktok_leadgen"]
        recorded = sorted(
            (row["auth_method"], row["signature_form"]) for row in rows if row["new_lead_count"]
        )
        assert recorded == [
            ("open_signature", "raw"),
            ("open_signature", "unicode_escaped"),
            ("open_signature", "unicode_escaped"),
            ("tiktok_signature", "unicode_escaped"),
        ]
