"""The lead subscription checker: TikTok drops subscriptions silently, so each connected
advertiser's is checked periodically and re-created when missing (TikTok faked with respx;
the emulator's TikTok-side revoke is played end to end in tests/e2e)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import respx
from sqlalchemy import select, update

from app.ads.jobs import check_due_subscriptions
from app.ads.models import AdvertiserSubscriptionCheck
from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.events.models import Event
from app.leads.models import TikTokAdvertiser
from tests.ads_support import (
    ADVERTISER_A,
    ADVERTISER_B,
    BUSINESS_API,
    LEADGEN_TOKEN,
    WEBHOOK_PATH,
    FakeBusiness,
    account_row,
    ads_settings,
    connect_ads,
    log_entries,
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return ads_settings(database_url)


@pytest.fixture
def fake() -> Iterator[FakeBusiness]:
    with respx.mock(base_url=BUSINESS_API, assert_all_called=False) as router:
        yield FakeBusiness(router)


async def _make_due(sessionmaker) -> None:
    """As if the last check was a day ago."""
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(AdvertiserSubscriptionCheck).values(checked_at=utcnow() - timedelta(days=1))
        )


async def _subscriptions(sessionmaker) -> dict[str, str | None]:
    async with sessionmaker() as session:
        rows = (await session.scalars(select(TikTokAdvertiser))).all()
    return {row.advertiser_id: row.subscription_id for row in rows}


async def _checks(sessionmaker) -> dict[str, AdvertiserSubscriptionCheck]:
    async with sessionmaker() as session:
        rows = (await session.scalars(select(AdvertiserSubscriptionCheck))).all()
    return {row.advertiser_id: row for row in rows}


async def test_a_subscription_tiktok_dropped_is_re_created_and_logged(
    client, auth, fake, app, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    before = await _subscriptions(sessionmaker)
    fake.subscriptions.pop(before[ADVERTISER_A] or "")
    await _make_due(sessionmaker)
    subscribed = fake.subscribe.call_count

    assert await check_due_subscriptions(app.state.ads) == 2

    assert fake.subscribe.call_count == subscribed + 1
    body = json.loads(fake.subscribe.calls.last.request.content)
    assert body["subscription_detail"]["advertiser_id"] == ADVERTISER_A
    assert body["callback_url"] == f"http://testserver{WEBHOOK_PATH}?token={LEADGEN_TOKEN}"
    after = await _subscriptions(sessionmaker)
    assert after[ADVERTISER_A] not in (None, before[ADVERTISER_A])
    assert after[ADVERTISER_A] in fake.subscriptions
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
    client, auth, fake, app
) -> None:
    await connect_ads(client, auth)

    assert await check_due_subscriptions(app.state.ads) == 0
    assert not fake.list_subscriptions.called


async def test_a_live_subscription_to_our_url_is_adopted_not_duplicated(
    client, auth, fake, app, sessionmaker
) -> None:
    fake.failures[f"subscribe:{ADVERTISER_B}"] = [50000]  # failed at connect
    await connect_ads(client, auth)
    assert (await _subscriptions(sessionmaker))[ADVERTISER_B] is None
    # It did reach TikTok after all (the answer was lost): TikTok lists it.
    fake.subscriptions["7300000000000000777"] = {
        "advertiser_id": ADVERTISER_B,
        "callback_url": f"http://testserver{WEBHOOK_PATH}?token={LEADGEN_TOKEN}",
    }
    subscribed = fake.subscribe.call_count

    assert await check_due_subscriptions(app.state.ads) == 1

    assert fake.subscribe.call_count == subscribed
    assert (await _subscriptions(sessionmaker))[ADVERTISER_B] == "7300000000000000777"


async def test_a_refused_token_flags_the_account_for_reconnection(
    client, auth, fake, app, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    fake.subscriptions.clear()  # the advertiser removed the app: its subscriptions died
    fake.failures["subscribe"] = [40105]
    await _make_due(sessionmaker)

    assert await check_due_subscriptions(app.state.ads) == 1

    row = await account_row(sessionmaker, account_id)
    assert (row.status, row.last_error_code) == ("reauth_required", "reauth_required")
    lost = (await log_entries(sessionmaker, account_id))[-1]
    assert (lost.event, lost.level) == ("leads.subscription_lost", "error")
    assert "Reconnect" in lost.message
    assert await check_due_subscriptions(app.state.ads) == 0, "nothing to check until reconnected"


async def test_a_failed_check_is_retried_later_not_at_once(
    client, auth, fake, app, sessionmaker
) -> None:
    await connect_ads(client, auth)
    await _make_due(sessionmaker)
    fake.failures["subscription_get"] = [40100, 40100]  # rate limited: not retried by the client

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
    client, auth, fake, app, sessionmaker
) -> None:
    await connect_ads(client, auth)
    before = await _subscriptions(sessionmaker)
    fake.subscriptions.pop(before[ADVERTISER_A] or "")
    await _make_due(sessionmaker)
    await check_due_subscriptions(app.state.ads)
    assert await _event_types(sessionmaker) == [
        ("account.connected", None),
        ("leads.subscription_restored", ADVERTISER_A),
    ]


async def test_a_refused_token_is_reauth_required_and_subscription_lost_events(
    client, auth, fake, app, sessionmaker
) -> None:
    await connect_ads(client, auth)
    fake.subscriptions.clear()
    fake.failures["subscribe"] = [40105]
    await _make_due(sessionmaker)
    await check_due_subscriptions(app.state.ads)
    types = await _event_types(sessionmaker)
    assert types[0] == ("account.connected", None)
    assert ("account.reauth_required", None) in types
    assert ("leads.subscription_lost", ADVERTISER_A) in types
