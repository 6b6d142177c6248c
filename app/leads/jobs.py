"""Background pass that attaches leads which arrived for an advertiser while it was being
connected (the connect's own `attach_unassigned` may run before such a lead commits), and
forgets raw lead webhook bodies after their retention period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.core.jobs import PeriodicJob
from app.leads import repository, service
from app.webhooks.service import InboxHandler, InboxItem

BATCH_SIZE = 100
# Raw bodies are an audit trail only: each lead keeps its own entry in `raw`.
RAW_DELIVERY_RETENTION = timedelta(days=30)


async def attach_unassigned_leads(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> int:
    """One pass; returns how many leads it attached."""
    async with sessionmaker() as session:
        pending = await repository.advertisers_with_unassigned(session, BATCH_SIZE)
    attached = 0
    for advertiser_id, company_id in pending:
        async with session_scope(sessionmaker) as session:
            attached += await service.attach_unassigned(
                session, advertiser_id, company_id, settings
            )
    async with session_scope(sessionmaker) as session:
        await repository.delete_webhook_deliveries_before(
            session, utcnow() - RAW_DELIVERY_RETENTION
        )
    return attached


def inbox_handler(settings: Settings) -> InboxHandler:
    """How the webhook inbox applies a lead webhook delivery: announce its new leads."""

    async def apply(session: AsyncSession, delivery: InboxItem) -> None:
        await service.announce_delivery(session, delivery, settings)

    return apply


def attach_job(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> PeriodicJob:
    async def run_once() -> int:
        return await attach_unassigned_leads(sessionmaker, settings)

    return PeriodicJob("lead_attach", settings.leads_attach_interval_seconds, run_once)
