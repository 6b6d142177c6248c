"""Lead webhook signatures over the unicode-escaped payload (TIKTOK_API.md §5).

TikTok may sign the payload with every non-ASCII character written as `\\uXXXX` (lowercase
hex, surrogate pairs above U+FFFF) while the body on the wire is raw UTF-8. A lead with an
Arabic, accented or emoji answer verifies either way, the delivery row says which form
matched, and a forged signature over either form is still refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.webhooks.models import LeadWebhookAuth, LeadWebhookDelivery
from tests.conftest import make_settings
from tests.test_leads_webhook import (
    BUSINESS_SECRET,
    CRM_SECRET,
    CRM_URL,
    LEADGEN_TOKEN,
    all_leads,
    connect_advertiser,
    lead_entry,
    nothing_stored,
    post,
)

ARABIC = "محمد عبد الله"
SPANISH = "José Núñez Peña"
EMOJI = "Chris 🎯"
NAMES = {"arabic": ARABIC, "spanish": SPANISH, "emoji": EMOJI}
LEAD_ID = 7126711421177430274


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url=database_url,
        tiktok_business_app_id="test-business-app",
        tiktok_business_secret=BUSINESS_SECRET,
        leadgen_webhook_token=LEADGEN_TOKEN,
        crm_leads_webhook_url=CRM_URL,
        crm_webhook_secret=CRM_SECRET,
    )


def document(name: str) -> dict[str, Any]:
    return {"object": 1, "time": int(time.time()), "entry": [lead_entry(LEAD_ID, name=name)]}


def wire_and_escaped(name: str) -> tuple[bytes, bytes]:
    """The raw UTF-8 body TikTok sends and the escaped form it may have signed."""
    doc = document(name)
    raw = json.dumps(doc, ensure_ascii=False).encode()
    escaped = json.dumps(doc, ensure_ascii=True).encode()
    assert raw != escaped
    assert escaped.isascii()
    return raw, escaped


def wire_and_escaped_of(body: bytes) -> bytes:
    """The escaped form of a body, written by json as TikTok would."""
    return json.dumps(json.loads(body), ensure_ascii=True).encode()


def hmac_hex(message: bytes, secret: str = BUSINESS_SECRET) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def headers_for(scheme: str, signed: bytes, secret: str = BUSINESS_SECRET) -> dict[str, str]:
    if scheme == "open":
        return {"X-Open-Signature": hmac_hex(signed, secret)}
    stamp = int(time.time())
    return {"TikTok-Signature": f"t={stamp},s={hmac_hex(f'{stamp}.'.encode() + signed, secret)}"}


def upper_hex(escaped: bytes) -> bytes:
    return re.sub(rb"\\u([0-9a-f]{4})", lambda m: b"\\u" + m.group(1).upper(), escaped)


async def stored_delivery(sessionmaker: async_sessionmaker[AsyncSession]) -> LeadWebhookDelivery:
    async with sessionmaker() as session:
        [stored] = (await session.scalars(select(LeadWebhookDelivery))).all()
    return stored


# The escape itself ---------------------------------------------------------------------------

ESCAPE_CASES = [
    ("", ""),
    ("Jane Doe", "Jane Doe"),
    ("é", "\\u00e9"),
    ("José Núñez Peña", "Jos\\u00e9 N\\u00fa\\u00f1ez Pe\\u00f1a"),
    ("¿Cuándo?", "\\u00bfCu\\u00e1ndo?"),
    ("محمد", "\\u0645\\u062d\\u0645\\u062f"),
    ("€", "\\u20ac"),
    ("\u00a0", "\\u00a0"),
    ("\ufeff", "\\ufeff"),
    ("\uffff", "\\uffff"),
    ("🎯", "\\ud83c\\udfaf"),
    ("Chris 🎯🚀", "Chris \\ud83c\\udfaf\\ud83d\\ude80"),
    ("\U00010000", "\\ud800\\udc00"),
    ("\U0010ffff", "\\udbff\\udfff"),
    ("👩‍💻", "\\ud83d\\udc69\\u200d\\ud83d\\udcbb"),
    ("日本語 テスト", "\\u65e5\\u672c\\u8a9e \\u30c6\\u30b9\\u30c8"),
]


@pytest.mark.parametrize(("text", "escaped"), ESCAPE_CASES)
def test_the_escape_matches_json_ascii_escaping_for_bmp_and_astral_characters(
    text: str, escaped: str
) -> None:
    from app.leads.webhook_auth import unicode_escape

    assert unicode_escape(text) == escaped
    # The same as json.dumps(ensure_ascii=True) writes a string (minus its quotes).
    assert unicode_escape(text) == json.dumps(text, ensure_ascii=True)[1:-1]


def test_the_escaped_body_keeps_every_ascii_byte_key_order_and_spacing() -> None:
    from app.leads.webhook_auth import unicode_escaped_body

    body = (
        '{ "time":1, "object" : 1,\n\t"entry":[{"changes":[{"value":"José 🎯 \\" \\\\ \\u00e9",'
        '"field":"name"}], "id":7126711421177430274 }]}\r\n'
    ).encode()
    expected = (
        b'{ "time":1, "object" : 1,\n\t"entry":[{"changes":[{"value":"Jos\\u00e9 \\ud83c\\udfaf '
        b'\\" \\\\ \\u00e9","field":"name"}], "id":7126711421177430274 }]}\r\n'
    )
    assert unicode_escaped_body(body) == expected
    # An ASCII body has no other form; bytes that are not UTF-8 have no escaped form.
    assert unicode_escaped_body(b'{"object":1}') is None
    assert unicode_escaped_body(b'{"name":"\xff\xfe"}') is None


# Verification over either form ---------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["open", "tiktok"])
@pytest.mark.parametrize("form", ["raw", "unicode_escaped"])
@pytest.mark.parametrize("language", sorted(NAMES))
async def test_a_non_ascii_lead_verifies_over_the_raw_bytes_and_over_the_escaped_form(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    scheme: str,
    form: str,
    language: str,
) -> None:
    await connect_advertiser(sessionmaker)
    name = NAMES[language]
    raw, escaped = wire_and_escaped(name)
    signed = raw if form == "raw" else escaped

    response = await post(client, raw, headers_for(scheme, signed), token=None)

    assert response.status_code == 200, response.text
    assert response.json()["new"] == 1
    [lead] = await all_leads(sessionmaker)
    assert lead.name == name
    assert lead.company_id == "acme"
    stored = await stored_delivery(sessionmaker)
    assert stored.auth_method == (
        LeadWebhookAuth.open_signature if scheme == "open" else LeadWebhookAuth.tiktok_signature
    )
    assert stored.signature_form == form
    assert stored.body == raw.decode()


async def test_a_body_with_odd_spacing_verifies_over_its_escaped_bytes_not_a_re_serialization(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    raw = (
        f'{{ "entry" : [ {{"changes":[{{"value":"{ARABIC} {EMOJI}","field":"name"}}],\n'
        f'  "advertiser_id":7000000000000000001, "id" : {LEAD_ID} }} ],\n "object":1 }}'
    ).encode()
    escaped = raw.replace(ARABIC.encode(), json.dumps(ARABIC)[1:-1].encode()).replace(
        EMOJI.encode(), json.dumps(EMOJI)[1:-1].encode()
    )
    assert escaped.isascii()

    response = await post(client, raw, headers_for("open", escaped), token=None)

    assert response.status_code == 200, response.text
    [lead] = await all_leads(sessionmaker)
    assert lead.name == f"{ARABIC} {EMOJI}"
    assert (await stored_delivery(sessionmaker)).signature_form == "unicode_escaped"


@pytest.mark.parametrize(
    "forgery",
    [
        "open_escaped_wrong_secret",
        "tiktok_escaped_wrong_secret",
        "open_escaped_of_another_body",
        "open_uppercase_hex_escapes",
        "tiktok_escaped_stale",
        "open_escaped_with_a_byte_missing",
    ],
)
async def test_a_forged_signature_over_either_form_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], forgery: str
) -> None:
    await connect_advertiser(sessionmaker)
    raw, escaped = wire_and_escaped(ARABIC)
    _, other_escaped = wire_and_escaped(SPANISH)
    stamp = int(time.time()) - 3600
    stale = {"TikTok-Signature": f"t={stamp},s={hmac_hex(f'{stamp}.'.encode() + escaped)}"}
    body, headers = {
        "open_escaped_wrong_secret": (raw, headers_for("open", escaped, "guessed-secret")),
        "tiktok_escaped_wrong_secret": (raw, headers_for("tiktok", escaped, "guessed-secret")),
        "open_escaped_of_another_body": (raw, headers_for("open", other_escaped)),
        # The escape is exact: lowercase hex only.
        "open_uppercase_hex_escapes": (raw, headers_for("open", upper_hex(escaped))),
        "tiktok_escaped_stale": (raw, stale),
        "open_escaped_with_a_byte_missing": (raw, headers_for("open", escaped[:-1])),
    }[forgery]

    response = await post(client, body, headers, token=None)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "leadgen_webhook_unauthorized"
    assert await nothing_stored(sessionmaker)
    # The same body with the genuine signature over its escaped form is accepted.
    genuine = await post(client, body, headers_for("open", wire_and_escaped_of(body)), token=None)
    assert genuine.status_code == 200, genuine.text


async def test_url_token_and_ascii_deliveries_record_their_form(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    raw, _ = wire_and_escaped(ARABIC)
    by_token = await post(client, raw, token=LEADGEN_TOKEN)
    assert by_token.status_code == 200, by_token.text
    assert (await stored_delivery(sessionmaker)).signature_form is None

    async with sessionmaker() as session, session.begin():
        await session.execute(LeadWebhookDelivery.__table__.delete())
    ascii_body = json.dumps(document("Jane Doe")).encode()
    signed = await post(client, ascii_body, headers_for("open", ascii_body), token=None)
    assert signed.status_code == 200, signed.text
    stored = await stored_delivery(sessionmaker)
    assert (stored.auth_method, stored.signature_form) == (LeadWebhookAuth.open_signature, "raw")
