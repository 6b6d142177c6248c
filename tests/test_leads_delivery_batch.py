"""A pass of the CRM delivery worker records a batch's outcomes together: the delivered ones
in one fenced UPDATE, each only if the delivery is still this attempt's."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.core.queue import Claim
from app.events import repository as events_repository
from app.events.delivery import CrmDeliveryWorker, Outcome
from app.events.models import DeliveryStatus
from app.leads import repository as leads_repository
from tests.crm_receiver import CrmReceiver

# The delivery tests' fixtures: a verifying CRM receiver on loopback, its settings, a worker.
from tests.test_leads_delivery import (  # noqa: F401
    deliveries,
    receiver,
    seed,
    settings,
    worker,
)


async def claim_at(
    sessionmaker: async_sessionmaker[AsyncSession], config: Settings, at: datetime, limit: int
) -> list[Claim]:
    lease = timedelta(seconds=config.crm_delivery_lease_seconds)
    async with session_scope(sessionmaker) as session:
        return await events_repository.claim_due(session, at, at + lease, limit)


async def test_a_batch_settle_records_exactly_the_outcomes_still_its_own(
    worker: CrmDeliveryWorker,  # noqa: F811
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,  # noqa: F811
) -> None:
    await seed(sessionmaker, settings, 5)
    now = utcnow()
    first = {claim.id: claim for claim in await claim_at(sessionmaker, settings, now, 5)}
    # One lease lapses and another worker claims that delivery again: the first worker's
    # late answer for it must settle nothing.
    lapsed = now + timedelta(seconds=settings.crm_delivery_lease_seconds + 1)
    [taken_over] = await claim_at(sessionmaker, settings, lapsed, 1)
    ids = sorted(set(first) - {taken_over.id})

    await worker._settle_many(
        [
            (first[ids[0]], Outcome("delivered", 200)),
            (first[ids[1]], Outcome("delivered", 202)),
            (first[ids[2]], Outcome("retry", 503, "HTTP 503: down")),
            (first[ids[3]], Outcome("dead", 410, "HTTP 410: gone")),
            (first[taken_over.id], Outcome("delivered", 200)),  # the zombie's
        ]
    )

    rows = {row.id: row for row in await deliveries(sessionmaker)}
    assert (rows[ids[0]].status, rows[ids[0]].last_status_code) == (DeliveryStatus.delivered, 200)
    assert (rows[ids[1]].status, rows[ids[1]].last_status_code) == (DeliveryStatus.delivered, 202)
    assert rows[ids[0]].delivered_at is not None
    assert rows[ids[0]].lease_until is None
    assert (rows[ids[2]].status, rows[ids[2]].last_status_code) == (DeliveryStatus.pending, 503)
    assert rows[ids[2]].last_error == "HTTP 503: down"
    assert (rows[ids[3]].status, rows[ids[3]].last_status_code) == (DeliveryStatus.dead, 410)
    # Still the other worker's attempt, untouched.
    zombie = rows[taken_over.id]
    assert (zombie.status, zombie.attempts, zombie.delivered_at) == (
        DeliveryStatus.delivering,
        2,
        None,
    )
    assert zombie.lease_until == taken_over.lease_until


async def test_a_pass_claims_and_settles_a_delivered_batch_in_one_statement_each(
    worker: CrmDeliveryWorker,  # noqa: F811
    receiver: CrmReceiver,  # noqa: F811
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,  # noqa: F811
) -> None:
    ids = await seed(sessionmaker, settings, 7)
    engine: AsyncEngine = sessionmaker.kw["bind"]
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "UPDATE crm_lead_deliveries" in statement:
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        assert await worker.run_once() == 7
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

    # The claim, then one settle for the seven.
    assert len(statements) == 2
    assert receiver.ids() == set(ids)
    rows = await deliveries(sessionmaker)
    assert {(row.status, row.attempts, row.last_status_code) for row in rows} == {
        (DeliveryStatus.delivered, 1, 200)
    }


async def test_new_leads_are_inserted_once_and_reported_exactly(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,  # noqa: F811
) -> None:
    ids = await seed(sessionmaker, settings, 3)
    assert len(ids) == 3
    now = utcnow()

    def row(tiktok_lead_id: str) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "company_id": None,
            "tiktok_lead_id": tiktok_lead_id,
            "advertiser_id": None,
            "advertiser_name": None,
            "form_id": None,
            "form_name": None,
            "campaign_id": None,
            "campaign_name": None,
            "adgroup_id": None,
            "adgroup_name": None,
            "ad_id": None,
            "ad_name": None,
            "lead_source": None,
            "submitted_at": now,
            "name": None,
            "first_name": None,
            "last_name": None,
            "email": None,
            "phone": None,
            "answers": [],
            "raw": {"id": tiktok_lead_id},
            "source": "webhook",
            "webhook_event_id": None,
            "is_test": False,
            "created_at": now,
            "updated_at": now,
        }

    # Two of seed's leads (7126711421177430000, …01) and 2,500 new ones: more than one
    # multi-row INSERT on either database.
    stored = ["7126711421177430000", "7126711421177430001"]
    fresh = [str(7200000000000000000 + i) for i in range(2500)]
    rows = [row(lead_id) for lead_id in [*fresh, *stored]]
    async with session_scope(sessionmaker) as session:
        inserted = await leads_repository.insert_new_leads(session, rows)
    new_ids = {row["tiktok_lead_id"]: row["id"] for row in rows if row["tiktok_lead_id"] in fresh}
    assert sorted(lead for _, lead in inserted) == sorted(fresh)
    assert all(new_ids[lead] == row_id for row_id, lead in inserted)
    async with session_scope(sessionmaker) as session:
        assert await leads_repository.insert_new_leads(session, rows[:10]) == []
        assert await leads_repository.insert_new_leads(session, []) == []
