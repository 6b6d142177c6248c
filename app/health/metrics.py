"""Business gauges for `/metrics`, read from the database at scrape time.

Three aggregate queries on a read session, one `GROUP BY` each (accounts, the webhook inbox,
CRM deliveries), whatever the tables hold; every known label combination is exported, at 0
when no row has it, so a series never vanishes when its count reaches zero. Labels are the
tables' enumerations, never ids. A database that does not answer (within
`QUERY_TIMEOUT_SECONDS`) costs the scrape only these gauges: `business_metrics_up` says 0
and the process metrics are served as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import column, func, select, table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.models import AccountStatus, Platform
from app.core.db import AsyncReadSession, UTCDateTime, read_scope, utcnow
from app.events.models import DeliveryStatus
from app.webhooks.models import WebhookEventStatus, WebhookSource

logger = logging.getLogger("app.health")
QUERY_TIMEOUT_SECONDS = 5.0
# Deliveries still on their way: the age of the oldest of these is the CRM's lag.
UNDELIVERED = (DeliveryStatus.pending, DeliveryStatus.delivering)

_accounts = table("integration_accounts", column("platform"), column("status"))
_inbox = table("tiktok_webhook_events", column("source"), column("status"))
_deliveries = table("crm_lead_deliveries", column("status"), column("created_at", UTCDateTime()))


class _Families(Collector):
    """Metric families gathered for one scrape."""

    def __init__(self, families: Sequence[GaugeMetricFamily]) -> None:
        self._families = families

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self._families


def _counted(
    name: str,
    documentation: str,
    labels: Sequence[str],
    known: Iterable[tuple[str, ...]],
    counts: dict[tuple[str, ...], int],
) -> GaugeMetricFamily:
    """One sample per known label combination (0 without rows), and per one found."""
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    values = dict.fromkeys(known, 0) | counts
    for key, value in sorted(values.items()):
        family.add_metric(list(key), value)
    return family


async def _gather(session: AsyncSession, now: datetime) -> list[GaugeMetricFamily]:
    accounts: dict[tuple[str, ...], int] = {
        (str(platform), str(status)): int(count)
        for platform, status, count in await session.execute(
            select(_accounts.c.platform, _accounts.c.status, func.count()).group_by(
                _accounts.c.platform, _accounts.c.status
            )
        )
    }
    inbox: dict[tuple[str, ...], int] = {
        (str(source), str(status)): int(count)
        for source, status, count in await session.execute(
            select(_inbox.c.source, _inbox.c.status, func.count()).group_by(
                _inbox.c.source, _inbox.c.status
            )
        )
    }
    deliveries: dict[tuple[str, ...], int] = {}
    oldest: datetime | None = None
    for status, count, first in await session.execute(
        select(_deliveries.c.status, func.count(), func.min(_deliveries.c.created_at)).group_by(
            _deliveries.c.status
        )
    ):
        deliveries[(str(status),)] = int(count)
        if status in UNDELIVERED and first is not None:
            oldest = first if oldest is None else min(oldest, first)
    age = GaugeMetricFamily(
        "crm_delivery_oldest_undelivered_age_seconds",
        "Age of the oldest CRM delivery still pending or delivering (0: none)",
    )
    age.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    return [
        _counted(
            "integration_accounts",
            "Integration accounts by platform and status",
            ("platform", "status"),
            ((str(p), str(s)) for p in Platform for s in AccountStatus),
            accounts,
        ),
        _counted(
            "webhook_inbox_events",
            "Rows of the webhook inbox (kept 30 days) by source and status",
            ("source", "status"),
            ((str(src), str(s)) for src in WebhookSource for s in WebhookEventStatus),
            inbox,
        ),
        _counted(
            "crm_deliveries",
            "CRM deliveries by status (dead: dead letters)",
            ("status",),
            ((str(s),) for s in DeliveryStatus),
            deliveries,
        ),
        age,
    ]


async def business_metrics(
    sessionmaker: async_sessionmaker[AsyncReadSession] | None,
) -> CollectorRegistry:
    """This scrape's business gauges, as a registry of their own (None: no database yet,
    the app's lifespan has not opened it)."""
    up = GaugeMetricFamily(
        "business_metrics_up", "1 when the business gauges could be read from the database"
    )
    families: list[GaugeMetricFamily] = []
    try:
        if sessionmaker is not None:
            async with asyncio.timeout(QUERY_TIMEOUT_SECONDS), read_scope(sessionmaker) as session:
                families = await _gather(session, utcnow())
    except Exception as exc:  # whatever the database does, the scrape answers
        logger.warning("business metrics unavailable", extra={"error": type(exc).__name__})
    up.add_metric([], 1.0 if families else 0.0)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families([*families, up]))
    return registry
