"""SQL for leads, advertisers, raw lead webhooks and the CRM outbox.

CRM-facing reads are scoped to one company. Ingest, attaching and delivery work across
companies (a webhook names an advertiser, not a company) and say so.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import utcnow
from app.core.pagination import keyset_page
from app.core.sql import dialect_insert, locked
from app.leads.models import (
    CrmDelivery,
    DeliveryStatus,
    Lead,
    TikTokAdvertiser,
)
from app.webhooks.models import LeadWebhookDelivery, WebhookEventStatus, WebhookSource

# Rows per multi-row INSERT: ~30 columns each stays far below SQLite's 32,766 and
# PostgreSQL's 32,767 bound parameters.
INSERT_CHUNK = 200


async def owners(session: AsyncSession, advertiser_ids: Sequence[str]) -> dict[str, str]:
    """Internal: {advertiser_id: company_id} for the connected advertisers among these."""
    if not advertiser_ids:
        return {}
    query = select(TikTokAdvertiser.advertiser_id, TikTokAdvertiser.company_id).where(
        TikTokAdvertiser.advertiser_id.in_(sorted(set(advertiser_ids)))
    )
    return {advertiser: company for advertiser, company in (await session.execute(query)).all()}


async def insert_new_leads(
    session: AsyncSession, rows: list[dict[str, Any]]
) -> list[tuple[uuid.UUID, str]]:
    """Insert the rows whose `tiktok_lead_id` is not stored yet: (id, tiktok_lead_id) of each.

    Rows go in TikTok-id order, so concurrent batches take PostgreSQL's unique-index locks
    in the same order (no deadlock); a concurrent insert of the same lead waits for the
    first transaction and then does nothing (`ON CONFLICT DO NOTHING`).
    """
    inserted: list[tuple[uuid.UUID, str]] = []
    rows = sorted(rows, key=lambda row: row["tiktok_lead_id"])
    for start in range(0, len(rows), INSERT_CHUNK):
        statement = (
            dialect_insert(session)(Lead)
            .values(rows[start : start + INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=[Lead.tiktok_lead_id])
            .returning(Lead.id, Lead.tiktok_lead_id)
        )
        inserted.extend((row_id, lead_id) for row_id, lead_id in await session.execute(statement))
    return inserted


async def enqueue(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Add outbox rows; a lead's event already enqueued is skipped. Returns how many."""
    added = 0
    for start in range(0, len(rows), INSERT_CHUNK):
        statement = (
            dialect_insert(session)(CrmDelivery)
            .values(rows[start : start + INSERT_CHUNK])
            .on_conflict_do_nothing(index_elements=[CrmDelivery.lead_id, CrmDelivery.event_type])
            .returning(CrmDelivery.id)
        )
        added += len((await session.execute(statement)).all())
    return added


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
    """Internal: the leads a lead webhook delivery stored first that belong to a company."""
    query = select(Lead).where(
        Lead.webhook_event_id == webhook_event_id, Lead.company_id.is_not(None)
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
    query = select(CrmDelivery).where(CrmDelivery.company_id == company_id)
    if status is not None:
        query = query.where(CrmDelivery.status == status)
    query = keyset_page(query, CrmDelivery.created_at, CrmDelivery.id, cursor, limit)
    return list((await session.scalars(query)).all())


async def lock_delivery(
    session: AsyncSession, company_id: str, delivery_id: uuid.UUID
) -> CrmDelivery | None:
    query = locked(
        select(CrmDelivery).where(
            CrmDelivery.id == delivery_id, CrmDelivery.company_id == company_id
        )
    )
    return (await session.scalars(query)).one_or_none()


async def claim_due(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> list[CrmDelivery]:
    """Internal: due deliveries, leased to the caller until `lease_until`.

    Due: pending and `next_attempt_at` reached, or delivering with a lapsed lease (its
    worker died). PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent workers claim disjoint
    rows. SQLite: the `BEGIN IMMEDIATE` write transaction serializes claimers. Each claim
    counts an attempt; the attempt number fences the outcome (see `settle`).
    """
    query = locked(
        select(CrmDelivery)
        .where(
            or_(
                and_(
                    CrmDelivery.status == DeliveryStatus.pending,
                    CrmDelivery.next_attempt_at <= now,
                ),
                and_(
                    CrmDelivery.status == DeliveryStatus.delivering,
                    CrmDelivery.lease_until < now,
                ),
            )
        )
        .order_by(CrmDelivery.next_attempt_at)
        .limit(limit),
        skip_locked=True,
    )
    claimed = list((await session.scalars(query)).all())
    for delivery in claimed:
        delivery.status = DeliveryStatus.delivering
        delivery.lease_until = lease_until
        delivery.attempts += 1
        delivery.first_attempt_at = delivery.first_attempt_at or now
    return claimed


async def lock_attempt(
    session: AsyncSession, delivery_id: uuid.UUID, attempt: int
) -> CrmDelivery | None:
    """Internal: the delivery under a lock if it is still this attempt's (not re-claimed
    after a lapsed lease, not replayed)."""
    query = locked(
        select(CrmDelivery).where(
            CrmDelivery.id == delivery_id,
            CrmDelivery.status == DeliveryStatus.delivering,
            CrmDelivery.attempts == attempt,
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
