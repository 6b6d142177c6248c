"""The lead subscription checker: TikTok drops subscriptions silently, so each connected
advertiser's is checked periodically and re-created when missing (TikTok for Business is
the emulator, served in process: tests/ads_support.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.advertisers import repository
from app.advertisers.jobs import CHECK_LEASE, check_due_subscriptions
from app.advertisers.models import TikTokAdvertiser
from app.advertisers.repository import ClaimedCheck
from app.advertisers.subscriptions import check_subscription
from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.events.models import Event
from tests.ads_support import (
    ADVERTISER_A,
    ADVERTISER_B,
    LEADGEN_TOKEN,
    WEBHOOK_PATH,
    EmulatedBusiness,
    account_row,
    ads_settings,
    connect_ads,
    emulated_business,
    log_entries,
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return ads_settings(database_url)


@pytest.fixture
async def business(settings: Settings) -> AsyncIterator[EmulatedBusiness]:
    async with emulated_business(settings) as emulated:
        yield emulated


async def _make_due(sessionmaker) -> None:
    """As if the last check was a day ago."""
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(TikTokAdvertiser).values(checked_at=utcnow() - timedelta(days=1))
        )


async def _subscriptions(sessionmaker) -> dict[str, str | None]:
    async with sessionmaker() as session:
        rows = (await session.scalars(select(TikTokAdvertiser))).all()
    return {row.advertiser_id: row.subscription_id for row in rows}


async def _checks(sessionmaker) -> dict[str, TikTokAdvertiser]:
    async with sessionmaker() as session:
        rows = (await session.scalars(select(TikTokAdvertiser))).all()
    return {row.advertiser_id: row for row in rows}


async def test_a_subscription_tiktok_dropped_is_re_created_and_logged(
    client, auth, business, app, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    before = await _subscriptions(sessionmaker)
    await business.drop_subscription(before[ADVERTISER_A] or "")
    await _make_due(sessionmaker)
    subscribed = business.subscribe.call_count

    assert await check_due_subscriptions(app.state.ads) == 2

    assert business.subscribe.call_count == subscribed + 1
    body = json.loads(business.subscribe.calls.last.request.content)
    assert body["subscription_detail"]["advertiser_id"] == ADVERTISER_A
    assert body["callback_url"] == f"http://testserver{WEBHOOK_PATH}?token={LEADGEN_TOKEN}"
    after = await _subscriptions(sessionmaker)
    assert after[ADVERTISER_A] not in (None, before[ADVERTISER_A])
    assert after[ADVERTISER_A] in business.subscription_ids()
    assert after[ADVERTISER_B] == before[ADVERTISER_B]
    resubscribed = (await log_entries(sessionmaker, account_id))[-1]
    assert (resubscribed.event, resubscribed.level) == ("leads.resubscribed", "warning")
    assert resubscribed.data == {
        "advertiser_id": ADVERTISER_A,
        "previous_subscription_id": before[ADVERTISER_A],
        "subscription_id": after[ADVERTISER_A],
    }
    checks = await _checks(sessionmaker)
    assert all(
        c.checked_at and utcnow() - c.checked_at < timedelta(minutes=1) for c in checks.values()
    )


async def test_advertisers_checked_within_the_interval_are_left_alone(
    client, auth, business, app
) -> None:
    await connect_ads(client, auth)

    assert await check_due_subscriptions(app.state.ads) == 0
    assert not business.list_subscriptions.called


async def test_a_live_subscription_to_our_url_is_adopted_not_duplicated(
    client, auth, business, app, sessionmaker
) -> None:
    # Failed at connect, yet it did reach TikTok (the answer was lost): TikTok lists it.
    await business.fault("subscribe", code=50000, advertiser_id=ADVERTISER_B, after=True)
    await connect_ads(client, auth)
    assert (await _subscriptions(sessionmaker))[ADVERTISER_B] is None
    (listed,) = business.subscription_ids(ADVERTISER_B)
    subscribed = business.subscribe.call_count

    assert await check_due_subscriptions(app.state.ads) == 1

    assert business.subscribe.call_count == subscribed
    assert (await _subscriptions(sessionmaker))[ADVERTISER_B] == listed


async def test_a_refused_token_flags_the_account_for_reconnection(
    client, auth, business, app, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    # The advertiser removed the app: its token and subscriptions died.
    await business.revoke_advertiser(ADVERTISER_A)
    await _make_due(sessionmaker)

    assert await check_due_subscriptions(app.state.ads) == 1

    row = await account_row(sessionmaker, account_id)
    assert (row.status, row.last_error_code) == ("reauth_required", "reauth_required")
    lost = (await log_entries(sessionmaker, account_id))[-1]
    assert (lost.event, lost.level) == ("leads.subscription_lost", "error")
    assert "Reconnect" in lost.message
    assert await check_due_subscriptions(app.state.ads) == 0, "nothing to check until reconnected"


async def test_a_failed_check_is_retried_later_not_at_once(
    client, auth, business, app, sessionmaker
) -> None:
    await connect_ads(client, auth)
    await _make_due(sessionmaker)
    # Rate limited (inside HTTP 200): not retried by the client.
    await business.fault("subscription_get", code=40100, count=2)

    assert await check_due_subscriptions(app.state.ads) == 2

    checks = await _checks(sessionmaker)
    assert {c.last_error for c in checks.values()} == {"tiktok_rate_limited"}
    assert all(c.lease_until and c.lease_until > utcnow() for c in checks.values())
    assert await check_due_subscriptions(app.state.ads) == 0


async def _event_types(sessionmaker) -> list[tuple[str, str | None]]:
    async with sessionmaker() as session:
        events = (await session.scalars(select(Event).order_by(Event.created_at))).all()
    return [(event.type.value, event.data.get("advertiser_id")) for event in events]


async def test_a_re_created_subscription_is_a_subscription_restored_event(
    client, auth, business, app, sessionmaker
) -> None:
    await connect_ads(client, auth)
    before = await _subscriptions(sessionmaker)
    await business.drop_subscription(before[ADVERTISER_A] or "")
    await _make_due(sessionmaker)
    await check_due_subscriptions(app.state.ads)
    assert await _event_types(sessionmaker) == [
        ("account.connected", None),
        ("leads.subscription_restored", ADVERTISER_A),
    ]


async def test_a_refused_token_is_reauth_required_and_subscription_lost_events(
    client, auth, business, app, sessionmaker
) -> None:
    await connect_ads(client, auth)
    await business.revoke_advertiser(ADVERTISER_A)
    await _make_due(sessionmaker)
    await check_due_subscriptions(app.state.ads)
    types = await _event_types(sessionmaker)
    assert types[0] == ("account.connected", None)
    assert ("account.reauth_required", None) in types
    assert ("leads.subscription_lost", ADVERTISER_A) in types


# The checker's lease: its outcome is written only while the advertiser is still its own -----


async def _claim_at(app, sessionmaker, at: datetime) -> ClaimedCheck:
    interval = timedelta(seconds=app.state.ads.settings.leads_subscription_check_interval_seconds)
    async with session_scope(sessionmaker) as session:
        claim = await repository.claim_subscription_check(
            session, at - interval, at, at + CHECK_LEASE
        )
    assert claim is not None
    return claim


async def _make_one_due(sessionmaker, advertiser_id: str) -> None:
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(TikTokAdvertiser)
            .where(TikTokAdvertiser.advertiser_id == advertiser_id)
            .values(checked_at=utcnow() - timedelta(days=1))
        )


async def test_a_checker_whose_lease_lapsed_writes_nothing_and_takes_back_what_it_made(
    client, auth, business, app, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    before = await _subscriptions(sessionmaker)
    await business.drop_subscription(before[ADVERTISER_A] or "")
    await _make_one_due(sessionmaker, ADVERTISER_A)
    now = utcnow()
    stale = await _claim_at(app, sessionmaker, now)
    # It took the stale checker longer than its lease: another one holds the check now.
    current = await _claim_at(app, sessionmaker, now + CHECK_LEASE + timedelta(seconds=1))
    assert (stale.advertiser_id, current.advertiser_id) == (ADVERTISER_A, ADVERTISER_A)
    logged = len(await log_entries(sessionmaker, account_id))
    subscribed = business.subscribe.call_count

    await check_subscription(app.state.ads, app.state.ads.business, stale)

    assert business.subscribe.call_count == subscribed + 1
    assert business.subscription_ids(ADVERTISER_A) == set(), "taken back"
    assert (await _subscriptions(sessionmaker))[ADVERTISER_A] == before[ADVERTISER_A]
    assert len(await log_entries(sessionmaker, account_id)) == logged
    assert ("leads.subscription_restored", ADVERTISER_A) not in await _event_types(sessionmaker)
    row = (await _checks(sessionmaker))[ADVERTISER_A]
    assert row.lease_until == current.claim.lease_until
    assert row.checked_at is not None
    assert row.checked_at < now - timedelta(hours=1)

    # The holder's check re-creates it, and says so.
    await check_subscription(app.state.ads, app.state.ads.business, current)
    assert (await _subscriptions(sessionmaker))[ADVERTISER_A] in business.subscription_ids()
    assert ("leads.subscription_restored", ADVERTISER_A) in await _event_types(sessionmaker)


async def test_a_checker_whose_lease_lapsed_reports_no_lost_subscription(
    client, auth, business, app, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    await business.revoke_advertiser(ADVERTISER_A)
    await _make_one_due(sessionmaker, ADVERTISER_A)
    now = utcnow()
    stale = await _claim_at(app, sessionmaker, now)
    current = await _claim_at(app, sessionmaker, now + CHECK_LEASE + timedelta(seconds=1))

    await check_subscription(app.state.ads, app.state.ads.business, stale)

    events = [entry.event for entry in await log_entries(sessionmaker, account_id)]
    assert "leads.subscription_lost" not in events
    assert ("leads.subscription_lost", ADVERTISER_A) not in await _event_types(sessionmaker)
    row = (await _checks(sessionmaker))[ADVERTISER_A]
    assert (row.lease_until, row.last_error) == (current.claim.lease_until, None)


async def test_a_connect_marking_advertisers_checked_leaves_a_running_check_its_lease(
    client, auth, business, app, sessionmaker
) -> None:
    await connect_ads(client, auth)
    await _make_one_due(sessionmaker, ADVERTISER_A)
    now = utcnow()
    running = await _claim_at(app, sessionmaker, now)

    async with session_scope(sessionmaker) as session:
        await repository.mark_checked(session, [ADVERTISER_A, ADVERTISER_B], now)

    rows = await _checks(sessionmaker)
    assert rows[ADVERTISER_A].lease_until == running.claim.lease_until
    assert rows[ADVERTISER_B].checked_at == now
    async with session_scope(sessionmaker) as session:
        assert await repository.check_passed(session, running, now) is True
    # A lapsed lease is no one's: the connect records its check.
    await _make_one_due(sessionmaker, ADVERTISER_A)
    await _claim_at(app, sessionmaker, now)
    later = now + CHECK_LEASE + timedelta(seconds=1)
    async with session_scope(sessionmaker) as session:
        await repository.mark_checked(session, [ADVERTISER_A], later)
    row = (await _checks(sessionmaker))[ADVERTISER_A]
    assert (row.lease_until, row.checked_at) == (None, later)
