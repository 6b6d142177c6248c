"""Lead reconciliation: every lead TikTok holds is stored, and we can show it.

TikTok retries a lead webhook for about a day; a subscription that died silently, a longer
outage or a signature we could not verify would lose leads for good. So every
LEADS_RECONCILE_INTERVAL_SECONDS (each run's next one jittered by +/-10%), each connected
advertiser is claimed by one worker (`repository.RECONCILIATIONS`: `SKIP LOCKED` plus a
lease on its advertiser row, so replicas share the work) and its lead export is read for
each form and each region (`app.ads.export`, concurrently and bounded). Each export is
compared with the stored leads as soon as it is read, in one transaction with the run's
report: the leads not stored are the gaps, and they are ingested exactly like a webhook's
(`leads.service.ingest`: the same dedupe, the same `lead.created` event and CRM delivery)
with source `reconciliation`.

The report (`Reconciliation`) keeps the forms and regions checked, leads seen, gaps found
and filled and the errors of exports that failed (the others are still compared). A gap
is a warning in the account log (a webhook was lost) and a metric. Every write is fenced
by the claim's lease: a worker whose lease lapsed (another took the advertiser over)
stops.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.ads import repository
from app.ads.export import REGIONS, ExportRead, ExportTarget, LeadExporter, targets_of
from app.ads.models import Reconciliation, ReconciliationStatus
from app.ads.service import AdsService
from app.audit import service as audit
from app.audit.models import LogLevel
from app.core.db import session_scope, utcnow
from app.core.errors import AppError
from app.core.metrics import LEAD_RECONCILIATION_GAPS, LEAD_RECONCILIATIONS
from app.core.queue import Claim
from app.leads import repository as leads_repository
from app.leads import service as leads
from app.leads.models import LeadSource
from app.tiktok.errors import TikTokError

logger = logging.getLogger("app.ads.reconcile")

# The report names the first this many missing leads (all are counted).
MAX_GAP_IDS = 100
MAX_ERRORS = 50
JITTER = 0.1
# A run that could not start (TikTok unavailable, forms unreadable) is tried again after
# this (or the interval, when shorter).
RETRY_AFTER = timedelta(minutes=15)
_jitter = random.Random()  # noqa: S311 - spreading runs, not security


class LeaseLost(Exception):
    """Another worker took the advertiser over (our lease lapsed)."""


class ReconciliationFailed(Exception):
    """The run cannot compare anything; the message says why."""


@dataclass(frozen=True, slots=True)
class ClaimedReconciliation:
    claim: Claim
    report_id: uuid.UUID
    advertiser_id: str
    account_id: uuid.UUID
    company_id: str
    # The time it was claimed as of (the next run is due an interval after it, or after
    # the clock, whichever is later).
    claimed_at: datetime

    @classmethod
    def of(cls, claim: Claim, report: Reconciliation) -> ClaimedReconciliation:
        return cls(
            claim,
            report.id,
            report.advertiser_id,
            report.account_id,
            report.company_id,
            report.created_at,
        )


def next_due(now: datetime, interval: timedelta) -> datetime:
    return now + interval * _jitter.uniform(1.0 - JITTER, 1.0 + JITTER)


def _error(target: ExportTarget | None, exc: Exception) -> dict[str, Any]:
    code = exc.code if isinstance(exc, AppError) else "export_failed"
    message = exc.detail_message if isinstance(exc, AppError) else str(exc)
    entry: dict[str, Any] = {"code": code, "message": message[:500]}
    if isinstance(exc, TikTokError) and exc.log_id:
        entry["log_id"] = exc.log_id
    if target is not None:
        entry |= {"form_id": target.form.page_id, "region": target.region}
    return entry


class ReconciliationRunner:
    _claim: Claim

    def __init__(self, ads: AdsService) -> None:
        self.ads = ads
        settings = ads.settings
        self.lease = timedelta(seconds=settings.leads_backfill_lease_seconds)
        self.interval = timedelta(seconds=settings.leads_reconcile_interval_seconds)
        self._renewed_at = utcnow()
        # Exports finish concurrently: their writes (each fenced by the lease) go one by one.
        self._writing = asyncio.Lock()
        self._regions_of: Counter[str] = Counter()
        self._gap_ids: list[str] = []
        self._errors: list[dict[str, Any]] = []

    async def run(self, job: ClaimedReconciliation) -> ReconciliationStatus | None:
        """Run a claimed reconciliation to its end; its outcome (None: the lease was lost)."""
        self._claim = job.claim
        try:
            access = await self.ads.access(job.company_id, job.account_id)
            advertiser = next(
                (a for a in access.advertisers if a.advertiser_id == job.advertiser_id), None
            )
            if advertiser is None:
                raise ReconciliationFailed("the advertiser is no longer the account's")
            forms = await self.ads.forms_of(access, advertiser.advertiser_id)
            exporter = LeadExporter(self.ads, heartbeat=self._heartbeat)
            await exporter.export_all(
                access,
                targets_of(advertiser, forms),
                lambda read: self._compare(job, read),
                on_error=lambda target, exc: self._export_failed(job, target, exc),
            )
        except LeaseLost:
            logger.info("reconciliation lease lost", extra={"advertiser_id": job.advertiser_id})
            await self._abandon(job)
            return None
        except AppError as exc:
            self._errors.append(_error(None, exc))
            return await self._finish(job, ReconciliationStatus.failed)
        except ReconciliationFailed as exc:
            self._errors.append({"code": "reconciliation_failed", "message": str(exc)})
            return await self._finish(job, ReconciliationStatus.failed)
        status = ReconciliationStatus.partial if self._errors else ReconciliationStatus.succeeded
        return await self._finish(job, status)

    async def _compare(self, job: ClaimedReconciliation, read: ExportRead) -> None:
        """Store the export's leads that are not stored yet, with the report's progress."""
        target = read.target
        if read.skipped_rows:
            logger.warning(
                "reconciliation rows skipped",
                extra={"advertiser_id": job.advertiser_id, "rows": read.skipped_rows[:10]},
            )
        async with self._writing, session_scope(self.ads.sessionmaker) as session:
            # Renewed first: the advertiser's row stays locked (PostgreSQL) meanwhile.
            await self._renew(session)
            stored = await leads_repository.stored_lead_ids(
                session, [lead.tiktok_lead_id for lead in read.leads]
            )
            missing = [lead for lead in read.leads if lead.tiktok_lead_id not in stored]
            result = await leads.ingest(
                session, missing, source=LeadSource.reconciliation, settings=self.ads.settings
            )
            self._regions_of[target.form_key] += 1
            form_done = self._regions_of[target.form_key] == len(REGIONS)
            gap_ids = [*self._gap_ids, *(lead.tiktok_lead_id for lead in missing)][:MAX_GAP_IDS]
            counts = Reconciliation.__table__.c
            await session.execute(
                update(Reconciliation)
                .where(Reconciliation.id == job.report_id)
                .values(
                    regions_checked=counts.regions_checked + 1,
                    forms_checked=counts.forms_checked + (1 if form_done else 0),
                    leads_seen=counts.leads_seen + len(read.leads),
                    gaps_found=counts.gaps_found + len(missing),
                    gaps_filled=counts.gaps_filled + len(result.new_ids),
                    gap_lead_ids=gap_ids,
                )
            )
        self._gap_ids = gap_ids
        if missing:
            LEAD_RECONCILIATION_GAPS.labels("found").inc(len(missing))
            LEAD_RECONCILIATION_GAPS.labels("filled").inc(len(result.new_ids))

    async def _export_failed(
        self, job: ClaimedReconciliation, target: ExportTarget, exc: Exception
    ) -> None:
        """An export that failed is named in the report; the others are still compared."""
        logger.warning(
            "reconciliation export failed",
            extra={"advertiser_id": job.advertiser_id, "export": target.key, "error": str(exc)},
        )
        async with self._writing, session_scope(self.ads.sessionmaker) as session:
            await self._renew(session)
            self._errors.append(_error(target, exc))
            await session.execute(
                update(Reconciliation)
                .where(Reconciliation.id == job.report_id)
                .values(errors=self._errors[:MAX_ERRORS])
            )

    async def _heartbeat(self) -> None:
        """Renew the lease while long exports run (a third of it is used at most)."""
        if utcnow() - self._renewed_at > self.lease / 3:
            async with self._writing, session_scope(self.ads.sessionmaker) as session:
                await self._renew(session)

    async def _renew(self, session: AsyncSession) -> None:
        now = utcnow()
        claim = await repository.RECONCILIATIONS.renew(
            session, self._claim, lease_until=now + self.lease
        )
        if claim is None:
            raise LeaseLost
        self._claim, self._renewed_at = claim, now

    async def _abandon(self, job: ClaimedReconciliation) -> None:
        """The advertiser is no longer ours (disconnected, or taken over): its report is
        closed, unless the worker that took over closed it already."""
        async with session_scope(self.ads.sessionmaker) as session:
            await session.execute(
                update(Reconciliation)
                .where(
                    Reconciliation.id == job.report_id,
                    Reconciliation.status == ReconciliationStatus.running,
                )
                .values(
                    status=ReconciliationStatus.failed,
                    finished_at=utcnow(),
                    errors=[
                        *self._errors[: MAX_ERRORS - 1],
                        {
                            "code": "lease_lost",
                            "message": "The advertiser was disconnected "
                            "or taken over by another worker.",
                        },
                    ],
                )
            )

    async def _finish(
        self, job: ClaimedReconciliation, status: ReconciliationStatus
    ) -> ReconciliationStatus | None:
        now = utcnow()
        since = max(now, job.claimed_at)
        values: dict[str, Any] = {"reconcile_due_at": next_due(since, self.interval)}
        if status == ReconciliationStatus.failed:
            values["reconcile_due_at"] = since + min(self.interval, RETRY_AFTER)
        else:
            values["reconciled_at"] = now
        async with self._writing, session_scope(self.ads.sessionmaker) as session:
            settled = await repository.RECONCILIATIONS.done(session, [self._claim], values=values)
            if not settled:
                return None  # the lease was lost
            report = await session.get(Reconciliation, job.report_id, populate_existing=True)
            if report is None:  # the account was deleted meanwhile
                return None
            report.status = status
            report.finished_at = now
            report.errors = self._errors[:MAX_ERRORS]
            _log(session, report)
        LEAD_RECONCILIATIONS.labels(status.value).inc()
        return status


def _log(session: AsyncSession, report: Reconciliation) -> None:
    """A gap (a lost webhook), a failed export or a failed run is a warning on the account
    log; a run that found everything stored writes nothing there."""
    data = {
        "reconciliation_id": str(report.id),
        "advertiser_id": report.advertiser_id,
        "forms_checked": report.forms_checked,
        "regions_checked": report.regions_checked,
        "leads_seen": report.leads_seen,
        "gaps_found": report.gaps_found,
        "gaps_filled": report.gaps_filled,
        "gap_lead_ids": report.gap_lead_ids[:20],
        "errors": report.errors[:10],
    }
    if report.status == ReconciliationStatus.failed:
        reason = report.errors[0]["message"] if report.errors else "unknown"
        event, level = "leads.reconciliation_failed", LogLevel.error
        message = (
            f"Lead reconciliation of advertiser {report.advertiser_id} could not run: {reason}. "
            "It is tried again later."
        )
    elif report.gaps_found:
        event, level = "leads.reconciliation_gaps", LogLevel.warning
        message = (
            f"Lead reconciliation of advertiser {report.advertiser_id} found "
            f"{report.gaps_found} leads in TikTok's export that no webhook had delivered "
            f"(a lost webhook each); {report.gaps_filled} were stored and sent to the CRM."
        )
    elif report.errors:
        event, level = "leads.reconciliation_incomplete", LogLevel.warning
        message = (
            f"Lead reconciliation of advertiser {report.advertiser_id} could not read "
            f"{len(report.errors)} exports; the other {report.regions_checked} held no "
            "missing lead."
        )
    else:
        return
    audit.record(
        session,
        event=event,
        company_id=report.company_id,
        account_id=report.account_id,
        level=level,
        message=message,
        data=data,
    )
