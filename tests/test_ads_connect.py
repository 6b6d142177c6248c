"""Connecting a TikTok for Business advertiser (platform `tiktok_ads`), and letting it go.

TikTok for Business is the emulator, served in process (tests/ads_support.py). The callback
always ends in a redirect to the frontend: `connected=true`, or `connected=false&error=CODE`
with nothing linked.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.advertisers.models import TikTokAdvertiser
from app.audit.models import IntegrationLog
from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.leads import service as leads
from app.leads.models import Lead, LeadSource
from app.leads.parsing import Attribution, ParsedLead
from app.oauth.state import OAuthState, StateCodec, cookie_name
from app.tokens.store import ACCESS
from tests.ads_support import (
    ACCOUNTS,
    ADVERTISER_A,
    ADVERTISER_B,
    BUSINESS_APP_ID,
    BUSINESS_AUTH,
    LEADGEN_TOKEN,
    WEBHOOK_PATH,
    EmulatedBusiness,
    account_row,
    ads_settings,
    callback,
    connect_ads,
    consent,
    create_account,
    emulated_business,
    log_entries,
    query_of,
    start_connect,
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return ads_settings(database_url)


@pytest.fixture
async def business(settings: Settings) -> AsyncIterator[EmulatedBusiness]:
    async with emulated_business(settings) as emulated:
        yield emulated


async def _advertisers(sessionmaker) -> list[TikTokAdvertiser]:
    async with sessionmaker() as session:
        query = select(TikTokAdvertiser).order_by(TikTokAdvertiser.advertiser_id)
        return list((await session.scalars(query)).all())


def _waiting_lead(lead_id: str, advertiser_id: str) -> ParsedLead:
    return ParsedLead.from_answers(
        tiktok_lead_id=lead_id,
        attribution=Attribution(advertiser_id=advertiser_id),
        answers=[{"field": "email", "value": "early@example.com"}],
        raw={"id": lead_id},
    )


async def test_approved_connect_links_the_advertisers_and_subscribes_their_leads(
    client, auth, business, app, sessionmaker, settings
) -> None:
    account_id = await create_account(client, auth)
    state, consent_url = await start_connect(client, auth, account_id)

    parts = urlsplit(consent_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == BUSINESS_AUTH
    assert query_of(consent_url) == {
        "app_id": [BUSINESS_APP_ID],
        "state": [state],
        "redirect_uri": [settings.tiktok_business_redirect],
    }
    assert settings.tiktok_business_redirect == (
        "http://testserver/api/integrations/accounts/oauth/callback/tiktok-ads/"
    )
    payload = StateCodec(settings).verify(client.cookies[cookie_name(state)], state, utcnow())
    assert (payload.platform, payload.verifier) == ("tiktok_ads", None)

    approved = await consent(consent_url)
    landing = await callback(client, **approved)

    assert landing == {"connected": ["true"], "account_id": [account_id]}
    assert json.loads(business.exchange.calls.last.request.content) == {
        "app_id": BUSINESS_APP_ID,
        "secret": "biz-secret-value-1",
        "auth_code": approved["auth_code"],
    }
    (token,) = business.access_tokens()
    row = await account_row(sessionmaker, account_id)
    assert row.status == "connected"
    assert token not in (row.access_token_ciphertext or "")
    assert (
        app.state.cipher.decrypt(row.access_token_ciphertext, account_id=row.id, field=ACCESS)
        == token
    )
    assert (row.access_token_expires_at, row.refresh_token_ciphertext) == (None, None)
    assert row.display_name == "Acme Outdoor, Tienda Solar"
    assert cookie_name(state) not in client.cookies

    linked = await _advertisers(sessionmaker)
    assert [(a.advertiser_id, a.advertiser_name, a.company_id) for a in linked] == [
        (ADVERTISER_A, "Acme Outdoor", "acme"),
        (ADVERTISER_B, "Tienda Solar", "acme"),
    ]
    assert {a.subscription_id for a in linked} == business.subscription_ids()
    assert all(a.subscribed_at is not None for a in linked)
    sent = [json.loads(call.request.content) for call in business.subscribe.calls]
    assert [body["subscription_detail"]["advertiser_id"] for body in sent] == [
        ADVERTISER_A,
        ADVERTISER_B,
    ]
    for body in sent:
        assert body["callback_url"] == f"http://testserver{WEBHOOK_PATH}?token={LEADGEN_TOKEN}"
        assert body["subscribe_entity"] == "LEAD"
        assert body["subscription_detail"]["access_token"] == token
    async with sessionmaker() as session:
        checks = (await session.scalars(select(TikTokAdvertiser))).all()
    assert {check.advertiser_id for check in checks} == {ADVERTISER_A, ADVERTISER_B}
    assert all(check.checked_at is not None for check in checks)

    events = [entry.event for entry in await log_entries(sessionmaker, account_id)]
    assert events == ["account.created", "connect.started", "connect.succeeded", "leads.subscribed"]


async def test_leads_that_arrived_before_the_connect_are_given_to_the_company(
    client, auth, business, sessionmaker, settings
) -> None:
    async with session_scope(sessionmaker) as session:
        await leads.ingest(
            session,
            [_waiting_lead("7126711421177430274", ADVERTISER_A)],
            source=LeadSource.webhook,
            settings=settings,
        )

    account_id = await connect_ads(client, auth)

    async with sessionmaker() as session:
        lead = (await session.scalars(select(Lead))).one()
    assert lead.company_id == "acme"
    succeeded = [e for e in await log_entries(sessionmaker, account_id)][-2]
    assert (succeeded.event, succeeded.data["leads_attached"]) == ("connect.succeeded", 1)


async def test_the_code_is_also_read_under_its_other_name(client, auth, business) -> None:
    account_id = await create_account(client, auth)
    state, consent_url = await start_connect(client, auth, account_id)
    only_code = (await consent(consent_url))["code"]

    landing = await callback(client, code=only_code, state=state)

    assert landing["connected"] == ["true"]
    assert json.loads(business.exchange.calls.last.request.content)["auth_code"] == only_code


async def test_denial_redirects_with_access_denied_and_links_nothing(
    client, auth, business, sessionmaker
) -> None:
    account_id = await create_account(client, auth)
    _, consent_url = await start_connect(client, auth, account_id)
    denied = await consent(consent_url, "deny")

    landing = await callback(client, **denied)

    assert landing == {
        "connected": ["false"],
        "account_id": [account_id],
        "error": ["access_denied"],
    }
    assert not business.exchange.called
    assert (await account_row(sessionmaker, account_id)).status == "pending"
    assert await _advertisers(sessionmaker) == []
    assert (await log_entries(sessionmaker, account_id))[-1].event == "connect.failed"


async def test_a_missing_cookie_is_invalid_state(client, auth, business) -> None:
    account_id = await create_account(client, auth)
    state, _ = await start_connect(client, auth, account_id)
    client.cookies.clear()

    landing = await callback(client, auth_code="c", state=state)

    assert landing == {"connected": ["false"], "error": ["invalid_state"]}
    assert not business.exchange.called


async def test_a_tampered_cookie_is_invalid_state(client, auth, business) -> None:
    account_id = await create_account(client, auth)
    state, _ = await start_connect(client, auth, account_id)
    name = cookie_name(state)
    value = client.cookies[name]
    client.cookies.set(name, value[:10] + ("A" if value[10] != "A" else "B") + value[11:])

    landing = await callback(client, auth_code="c", state=state)

    assert landing == {"connected": ["false"], "error": ["invalid_state"]}
    assert not business.exchange.called


async def test_an_expired_state_is_state_expired(client, auth, business, settings) -> None:
    account_id = await create_account(client, auth)
    state = "expired-state"
    payload = OAuthState(
        state=state,
        verifier=None,
        account_id=account_id,
        company_id="acme",
        user="user-1",
        platform="tiktok_ads",
        expires_at=(utcnow() - timedelta(seconds=1)).timestamp(),
    )
    client.cookies.set(cookie_name(state), StateCodec(settings).sign(payload))

    landing = await callback(client, auth_code="c", state=state)

    assert landing == {"connected": ["false"], "error": ["state_expired"]}
    assert not business.exchange.called


async def test_a_login_kit_state_is_refused_by_the_ads_callback(client, auth, business) -> None:
    login_kit = await create_account(client, auth, platform="tiktok")
    started = await client.post(f"{ACCOUNTS}{login_kit}/connect/", headers=auth())

    landing = await callback(client, auth_code="c", state=started.json()["state"])

    assert landing == {"connected": ["false"], "error": ["invalid_state"]}
    assert not business.exchange.called


async def test_a_refused_code_inside_http_200_is_token_exchange_failed(
    client, auth, business, sessionmaker
) -> None:
    account_id = await create_account(client, auth)
    state, _ = await start_connect(client, auth, account_id)

    # A code TikTok never issued (or already used): refused with 40002 inside HTTP 200.
    landing = await callback(client, auth_code="used-code", state=state)

    assert landing["error"] == ["token_exchange_failed"]
    row = await account_row(sessionmaker, account_id)
    assert (row.status, row.access_token_ciphertext) == ("pending", None)
    assert not business.subscribe.called
    failed = (await log_entries(sessionmaker, account_id))[-1]
    assert failed.event == "connect.failed"
    assert failed.data["tiktok_code"] == "40002"
    assert failed.data["log_id"] == business.exchange.calls.last.response.json()["request_id"]


async def test_a_grant_without_advertisers_is_refused(client, auth, business) -> None:
    await business.set_advertisers([])  # the user manages no advertiser account
    account_id = await create_account(client, auth)
    _, consent_url = await start_connect(client, auth, account_id)

    landing = await callback(client, **await consent(consent_url))

    assert landing["error"] == ["no_advertisers"]


async def test_an_advertiser_linked_to_another_account_is_already_connected(
    client, auth, business, sessionmaker
) -> None:
    first = await connect_ads(client, auth)
    second = await create_account(client, auth, company="globex")
    _, consent_url = await start_connect(client, auth, second, "globex")
    approved = await consent(consent_url, advertisers=[ADVERTISER_B])
    subscribed_before = business.subscribe.call_count

    landing = await callback(client, **approved)

    assert landing == {
        "connected": ["false"],
        "account_id": [second],
        "error": ["already_connected"],
    }
    row = await account_row(sessionmaker, second)
    assert (row.status, row.access_token_ciphertext) == ("pending", None)
    assert business.subscribe.call_count == subscribed_before
    assert not business.revoke.called, "the new token is discarded, not revoked"
    owners = {a.advertiser_id: str(a.account_id) for a in await _advertisers(sessionmaker)}
    assert owners == {ADVERTISER_A: first, ADVERTISER_B: first}
    failed = (await log_entries(sessionmaker, second))[-1]
    assert failed.data["advertiser_ids"] == [ADVERTISER_B]


async def test_a_failed_subscription_is_logged_and_does_not_fail_the_connect(
    client, auth, business, sessionmaker
) -> None:
    await business.fault("subscribe", code=40002, advertiser_id=ADVERTISER_B)

    account_id = await connect_ads(client, auth)

    subscriptions = {a.advertiser_id: a.subscription_id for a in await _advertisers(sessionmaker)}
    assert subscriptions[ADVERTISER_A] is not None
    assert subscriptions[ADVERTISER_B] is None
    entries = await log_entries(sessionmaker, account_id)
    failed = next(e for e in entries if e.event == "leads.subscribe_failed")
    assert (failed.level, failed.data["advertiser_id"]) == ("warning", ADVERTISER_B)
    assert (await account_row(sessionmaker, account_id)).status == "connected"


async def test_reconnecting_releases_the_previous_token_and_subscriptions(
    client, auth, business, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    first_subscriptions = business.subscription_ids()

    await connect_ads(client, auth, account_id)

    first_token, second_token = business.access_tokens()
    unsubscribed = {
        json.loads(c.request.content)["subscription_id"] for c in business.unsubscribe.calls
    }
    assert unsubscribed == first_subscriptions
    assert json.loads(business.revoke.calls.last.request.content)["access_token"] == first_token
    linked = await _advertisers(sessionmaker)
    assert len(linked) == 2
    assert {a.subscription_id for a in linked} == business.subscription_ids()
    assert not first_subscriptions & business.subscription_ids()
    row = await account_row(sessionmaker, account_id)
    assert second_token not in (row.access_token_ciphertext or "")
    assert (await log_entries(sessionmaker, account_id))[-1].event == "connect.previous_released"


async def test_disconnect_unsubscribes_revokes_wipes_and_unlinks(
    client, auth, business, sessionmaker, settings
) -> None:
    account_id = await connect_ads(client, auth)
    subscriptions = business.subscription_ids()
    (token,) = business.access_tokens()

    response = await client.post(f"{ACCOUNTS}{account_id}/disconnect/", headers=auth())

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disconnected"
    unsubscribed = {
        str(json.loads(c.request.content)["subscription_id"]) for c in business.unsubscribe.calls
    }
    assert unsubscribed == subscriptions
    assert json.loads(business.revoke.calls.last.request.content) == {
        "app_id": BUSINESS_APP_ID,
        "secret": "biz-secret-value-1",
        "access_token": token,
    }
    row = await account_row(sessionmaker, account_id)
    assert row.access_token_ciphertext is None
    assert await _advertisers(sessionmaker) == []
    last = (await log_entries(sessionmaker, account_id))[-1]
    assert last.event == "account.disconnected"
    assert (
        last.data.items() >= {"revoked": True, "unsubscribed": 2, "advertisers_unlinked": 2}.items()
    )

    # A later lead of an advertiser no longer connected is kept, unassigned.
    async with session_scope(sessionmaker) as session:
        await leads.ingest(
            session,
            [_waiting_lead("7126711421177430999", ADVERTISER_A)],
            source=LeadSource.webhook,
            settings=settings,
        )
    async with sessionmaker() as session:
        assert (await session.scalars(select(Lead.company_id))).one() is None


async def test_a_revoke_failure_is_logged_and_the_token_is_still_wiped(
    client, auth, business, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    await business.fault("revoke_token", code=40002)
    await business.fault("unsubscribe", code=40002)

    response = await client.post(f"{ACCOUNTS}{account_id}/disconnect/", headers=auth())

    assert response.json()["status"] == "disconnected"
    row = await account_row(sessionmaker, account_id)
    assert row.access_token_ciphertext is None
    last = (await log_entries(sessionmaker, account_id))[-1]
    assert last.level == "warning"
    assert (last.data["revoked"], last.data["error"]) == (False, "tiktok_bad_request")
    assert last.data["unsubscribed"] == 1
    assert len(last.data["unsubscribe_failed"]) == 1


async def test_an_already_revoked_token_counts_as_revoked(
    client, auth, business, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    await business.revoke_advertiser(ADVERTISER_A)  # the advertiser removed the app meanwhile

    await client.post(f"{ACCOUNTS}{account_id}/disconnect/", headers=auth())

    last = (await log_entries(sessionmaker, account_id))[-1]
    assert (last.level, last.data["revoked"], last.data["already_revoked"]) == ("info", True, True)


async def test_delete_unsubscribes_and_revokes_first(client, auth, business, sessionmaker) -> None:
    account_id = await connect_ads(client, auth)

    response = await client.delete(f"{ACCOUNTS}{account_id}/", headers=auth())

    assert response.status_code == 204
    assert business.unsubscribe.call_count == 2
    assert business.revoke.call_count == 1
    assert await _advertisers(sessionmaker) == []
    async with sessionmaker() as session:
        assert (await session.scalars(select(TikTokAdvertiser))).all() == []
    async with sessionmaker() as session:
        deleted = (
            await session.scalars(
                select(IntegrationLog).where(IntegrationLog.event == "account.deleted")
            )
        ).one()
    assert (deleted.data["revoked"], deleted.data["unsubscribed"]) == (True, 2)


async def test_another_companys_ads_account_cannot_be_connected(client, auth, business) -> None:
    account_id = await create_account(client, auth)
    response = await client.post(f"{ACCOUNTS}{account_id}/connect/", headers=auth("globex"))
    assert response.status_code == 404
