"""SQL for leads, raw lead webhooks and the CRM outbox (advertisers: `app.advertisers`).

CRM-facing reads are scoped to one company. Ingest, attaching and delivery work across
companies (a webhook names an advertiser, not a company) and say so.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from app.advertisers.models import TikTokAdvertiser
from app.core.db import utcnow
from app.core.pagination import keyset_page
from app.core.sql import dialect_insert, locked
from app.events.models import CrmDelivery, DeliveryStatus
from app.leads.models import Lead, LeadProbe, ProbeStatus
from app.webhooks.models import LeadWebhookDelivery, WebhookEventStatus, WebhookSource

# A probe waits twice LEADS_PROBE_TIMEOUT_SECONDS (at most 120 s) and reads one export.
PROBE_MAX_WAIT = timedelta(minutes=10)
# Ids per `IN (…)` list: far below SQLite's 32,766 and PostgreSQL's 32,767 bound
# parameters. (Multi-row INSERTs are split by SQLAlchemy's insertmanyvalues itself.)
INSERT_CHUNK = 200
LEADS = cast(Table, Lead.__table__)


async def insert_new_leads(
    session: AsyncSession, rows: list[dict[str, Any]]
) -> list[tuple[uuid.UUID, str]]:
    """Insert the rows whose `tiktok_lead_id` is not stored yet: (id, tiktok_lead_id) of each.

    Rows go in TikTok-id order, so concurrent batches take PostgreSQL's unique-index locks
    in the same order (no deadlock); a concurrent insert of the same lead waits for the
    first transaction and then does nothing (`ON CONFLICT DO NOTHING`).

    One Core statement executed for many rows: SQLAlchemy's "insertmanyvalues" sends them
    as multi-row INSERTs (as many rows per statement as the bound-parameter limits allow),
    from a statement compiled once and cached, not one compiled per batch of values.
    """
    if not rows:
        return []
    rows = sorted(rows, key=lambda row: row["tiktok_lead_id"])
    statement = (
        dialect_insert(session)(LEADS)
        .on_conflict_do_nothing(index_elements=[LEADS.c.tiktok_lead_id])
        .returning(LEADS.c.id, LEADS.c.tiktok_lead_id)
    )
    result = await session.execute(statement, rows)
    return [(row_id, lead_id) for row_id, lead_id in result]


async def assign_unassigned(
    session: AsyncSession, advertiser_id: str, company_id: str
) -> list[uuid.UUID]:
    """Internal: give the advertiser's unassigned leads to the company; their ids.

    The `company_id IS NULL` condition is re-checked under the row lock, so of two
    concurrent callers each lead goes to exactly one.
    """
    statement = (
        update(Lead)
        .where(Lead.advertiser_id == advertiser_id, Lead.company_id.is_(None))
        .values(company_id=company_id, updated_at=utcnow())
        .returning(Lead.id)
    )
    return list((await session.scalars(statement)).all())


async def owned_leads_of_delivery(session: AsyncSession, webhook_event_id: uuid.UUID) -> list[Lead]:
    """Internal: the leads a lead webhook delivery stored first that belong to a company,
    without their `raw` record (not loaded: what is announced leaves it out)."""
    query = (
        select(Lead)
        .options(defer(Lead.raw, raiseload=True))
        .where(
            Lead.webhook_event_id == webhook_event_id,
            Lead.company_id.is_not(None),
            Lead.is_test.is_(False),  # a probe's test lead is not announced
        )
    )
    return list((await session.scalars(query)).all())


async def leads_by_id(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Lead]:
    leads: list[Lead] = []
    for start in range(0, len(ids), INSERT_CHUNK):
        query = select(Lead).where(Lead.id.in_(ids[start : start + INSERT_CHUNK]))
        leads.extend((await session.scalars(query)).all())
    return leads


async def advertisers_with_unassigned(session: AsyncSession, limit: int) -> list[tuple[str, str]]:
    """Internal: (advertiser_id, company_id) of connected advertisers with unassigned leads."""
    query = (
        select(TikTokAdvertiser.advertiser_id, TikTokAdvertiser.company_id)
        .where(
            select(Lead.id)
            .where(Lead.advertiser_id == TikTokAdvertiser.advertiser_id, Lead.company_id.is_(None))
            .exists()
        )
        .order_by(TikTokAdvertiser.advertiser_id)
        .limit(limit)
    )
    return [(advertiser, company) for advertiser, company in (await session.execute(query)).all()]


async def get_lead(session: AsyncSession, company_id: str, lead_id: uuid.UUID) -> Lead | None:
    query = select(Lead).where(Lead.id == lead_id, Lead.company_id == company_id)
    return (await session.scalars(query)).one_or_none()


async def list_leads(
    session: AsyncSession,
    company_id: str,
    *,
    since: datetime | None,
    form_id: str | None,
    campaign_id: str | None,
    advertiser_id: str | None,
    has_email: bool | None,
    has_phone: bool | None,
    cursor: str | None,
    limit: int,
) -> list[Lead]:
    """Newest submission first, keyset-paginated over (submitted_at, id)."""
    query = select(Lead).where(Lead.company_id == company_id)
    if since is not None:
        query = query.where(Lead.submitted_at >= since)
    for column, value in (
        (Lead.form_id, form_id),
        (Lead.campaign_id, campaign_id),
        (Lead.advertiser_id, advertiser_id),
    ):
        if value is not None:
            query = query.where(column == value)
    for column, wanted in ((Lead.email, has_email), (Lead.phone, has_phone)):
        if wanted is not None:
            query = query.where(column.is_not(None) if wanted else column.is_(None))
    query = keyset_page(query, Lead.submitted_at, Lead.id, cursor, limit)
    return list((await session.scalars(query)).all())


async def list_deliveries(
    session: AsyncSession,
    company_id: str,
    *,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> list[CrmDelivery]:
    # The leads' deliveries (GET /events/deliveries/ lists every event's).
    query = select(CrmDelivery).where(
        CrmDelivery.company_id == company_id, CrmDelivery.lead_id.is_not(None)
    )
    if status is not None:
        query = query.where(CrmDelivery.status == status)
    query = keyset_page(query, CrmDelivery.created_at, CrmDelivery.id, cursor, limit)
    return list((await session.scalars(query)).all())


async def lock_delivery(
    session: AsyncSession, company_id: str, delivery_id: uuid.UUID
) -> CrmDelivery | None:
    query = locked(
        select(CrmDelivery).where(
            CrmDelivery.id == delivery_id,
            CrmDelivery.company_id == company_id,
            CrmDelivery.lead_id.is_not(None),
        )
    )
    return (await session.scalars(query)).one_or_none()


async def delete_webhook_deliveries_before(session: AsyncSession, before: datetime) -> int:
    """Forget raw lead webhook bodies received before `before` (the leads keep their entry)."""
    statement = delete(LeadWebhookDelivery).where(
        LeadWebhookDelivery.source == WebhookSource.tiktok_leadgen,
        LeadWebhookDelivery.received_at < before,
        # A row still waiting for its inbox pass keeps its leads' announcement pending.
        LeadWebhookDelivery.status != WebhookEventStatus.received,
    )
    result = cast("CursorResult[Any]", await session.execute(statement))
    return result.rowcount


async def stored_lead_ids(session: AsyncSession, tiktok_lead_ids: Sequence[str]) -> set[str]:
    """Internal (every company): which of these TikTok lead ids are stored."""
    stored: set[str] = set()
    ids = sorted(set(tiktok_lead_ids))
    for start in range(0, len(ids), INSERT_CHUNK):
        query = select(Lead.tiktok_lead_id).where(
            Lead.tiktok_lead_id.in_(ids[start : start + INSERT_CHUNK])
        )
        stored.update((await session.scalars(query)).all())
    return stored


async def freshness_rows(
    session: AsyncSession, company_id: str, since: datetime, limit: int
) -> list[tuple[datetime, datetime, str, datetime | None]]:
    """The company's leads stored since `since` (the latest `limit`): (submitted_at,
    created_at, source, the CRM's acknowledgement of their `lead.created` or None)."""
    query = (
        select(Lead.submitted_at, Lead.created_at, Lead.source, CrmDelivery.delivered_at)
        .outerjoin(CrmDelivery, CrmDelivery.lead_id == Lead.id)
        .where(Lead.company_id == company_id, Lead.created_at >= since, Lead.is_test.is_(False))
        .order_by(Lead.created_at.desc())
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [(submitted, stored, str(source), acked) for submitted, stored, source, acked in rows]


async def delivery_backlog(session: AsyncSession, company_id: str) -> tuple[int, datetime | None]:
    """The company's lead deliveries not yet acknowledged by the CRM (pending or being
    delivered): how many, and when the oldest was queued."""
    query = select(func.count(CrmDelivery.id), func.min(CrmDelivery.created_at)).where(
        CrmDelivery.company_id == company_id,
        CrmDelivery.lead_id.is_not(None),
        CrmDelivery.status.in_((DeliveryStatus.pending, DeliveryStatus.delivering)),
    )
    count, oldest = (await session.execute(query)).one()
    return int(count), oldest


async def waiting_probes(
    session: AsyncSession, form_ids: Sequence[str]
) -> list[tuple[uuid.UUID, str, str | None]]:
    """Internal: (id, form_id, tiktok_lead_id) of the probes waiting on these forms (a
    probe waits minutes at most: an older one whose process died is no longer waiting)."""
    if not form_ids:
        return []
    query = select(LeadProbe.id, LeadProbe.form_id, LeadProbe.tiktok_lead_id).where(
        LeadProbe.status == ProbeStatus.waiting,
        LeadProbe.form_id.in_(form_ids),
        LeadProbe.created_at >= utcnow() - PROBE_MAX_WAIT,
    )
    return [(row_id, form, lead) for row_id, form, lead in (await session.execute(query)).all()]


async def name_probe_lead(session: AsyncSession, probe_id: uuid.UUID, tiktok_lead_id: str) -> None:
    """Internal: the probe's test lead is this one (unless it already knows its lead)."""
    await session.execute(
        update(LeadProbe)
        .where(LeadProbe.id == probe_id, LeadProbe.tiktok_lead_id.is_(None))
        .values(tiktok_lead_id=tiktok_lead_id)
    )
