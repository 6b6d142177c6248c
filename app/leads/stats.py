"""Lead freshness: how long TikTok's leads take to reach us and the CRM, per company.

From the leads stored over the last day: the time from TikTok's `create_time` (the lead's
`submitted_at`) to our storage, and to the CRM's acknowledgement of its `lead.created`
delivery, as p50 and p99 (nearest rank); how many came by webhook, backfill and
reconciliation (a reconciled lead is one whose webhook was lost); and the backlog of lead
deliveries the CRM has not acknowledged yet, with the oldest one's age. Percentiles are
taken over the latest `MAX_LEADS` leads of the window.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import utcnow
from app.core.security import Principal
from app.leads import repository
from app.leads.models import LeadSource
from app.leads.schemas import LeadStatsOut

WINDOW = timedelta(days=1)
MAX_LEADS = 50_000


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (`share` in (0, 1]) of `values`; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[rank - 1], 3)


async def freshness(
    session: AsyncSession, principal: Principal, now: datetime | None = None
) -> LeadStatsOut:
    now = now or utcnow()
    since = now - WINDOW
    rows = await repository.freshness_rows(session, principal.company_id, since, MAX_LEADS)
    stored = [max(0.0, (created - submitted).total_seconds()) for submitted, created, _, _ in rows]
    acked = [
        max(0.0, (delivered - submitted).total_seconds())
        for submitted, _, _, delivered in rows
        if delivered is not None
    ]
    sources = Counter(source for _, _, source, _ in rows)
    backlog, oldest = await repository.delivery_backlog(session, principal.company_id)
    return LeadStatsOut(
        since=since,
        leads=len(rows),
        by_source={source.value: sources.get(source.value, 0) for source in LeadSource},
        stored_seconds_p50=percentile(stored, 0.5),
        stored_seconds_p99=percentile(stored, 0.99),
        acknowledged=len(acked),
        acknowledged_seconds_p50=percentile(acked, 0.5),
        acknowledged_seconds_p99=percentile(acked, 0.99),
        backlog=backlog,
        oldest_undelivered_at=oldest,
        oldest_undelivered_age_seconds=(
            round(max(0.0, (now - oldest).total_seconds()), 3) if oldest is not None else None
        ),
    )
