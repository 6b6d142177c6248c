"""Raw lead webhook bodies are kept 30 days, then forgotten; the leads are not touched."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.db import utcnow
from app.leads.jobs import RAW_DELIVERY_RETENTION, attach_unassigned_leads
from app.webhooks.models import LeadWebhookAuth, LeadWebhookDelivery
from app.webhooks.models import WebhookEventStatus as LeadWebhookStatus


async def test_raw_deliveries_older_than_the_retention_are_deleted(
    app, sessionmaker, settings
) -> None:
    now = utcnow()
    async with sessionmaker() as session:
        for age in (RAW_DELIVERY_RETENTION + timedelta(hours=1), timedelta(days=1)):
            session.add(
                LeadWebhookDelivery(
                    received_at=now - age,
                    body="{}",
                    auth_method=LeadWebhookAuth.url_token,
                    status=LeadWebhookStatus.ignored,
                )
            )
        await session.commit()

    await attach_unassigned_leads(sessionmaker, settings)

    async with sessionmaker() as session:
        kept = (await session.scalars(select(LeadWebhookDelivery))).all()
    assert [now - row.received_at < RAW_DELIVERY_RETENTION for row in kept] == [True]
