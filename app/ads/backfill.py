"""The backfill worker: recover missed leads from TikTok's lead export.

For each advertiser of the account, each form (the one asked for, or all) and each region
(the default one, then `eu` and `us`, whose leads only come back when asked for by name),
the export is read by the one export client (`app.ads.export`: forms and regions run
concurrently, a bounded number of export tasks in flight per advertiser). Each export's
leads go through `leads.service.ingest` like webhook leads as soon as it is read, so a lead
already stored (by webhook or an earlier backfill) is not stored again; the progress is
committed with them (a form is done once its three regions are). The jobs are a durable
queue (`app.core.queue`, declared as `repository.BACKFILLS`): every write is fenced by the
job's claim number, so a worker whose lease lapsed (and whose job another worker took
over), or whose job was stopped, stops.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.ads import repository
from app.ads.export import ExportFailed, ExportRead, ExportTarget, LeadExporter, targets_of
from app.ads.service import AdsAccess, AdsService
from app.audit import service as audit
from app.audit.models import LogLevel
from app.core.db import session_scope, utcnow
from app.core.errors import AppError
from app.core.queue import Claim
from app.leads import service as leads
from app.leads.models import LeadSource
from app.tiktok.errors import TikTokError

logger = logging.getLogger("app.ads.backfill")

# A job whose worker stopped this many times (crash, deploy) is failed, not retried forever.
MAX_ATTEMPTS = 3


class BackfillFailed(Exception):
    """The job cannot go on; the message is the reason recorded on it."""


class LeaseLost(Exception):
    """Another worker took the job over (our lease lapsed) or it was stopped."""


@dataclass(frozen=True, slots=True)
class ClaimedBackfill:
    claim: Claim
    account_id: uuid.UUID
    company_id: str
    form_id: str | None
    # "advertiser_id:form_id" of the forms an earlier claim finished, and
    # "advertiser_id:form_id:region" of the exports it stored, in order.
    completed_forms: tuple[str, ...]

    @property
    def id(self) -> uuid.UUID:
        job_id: uuid.UUID = self.claim.id
        return job_id

    @property
    def attempt(self) -> int:
        return self.claim.attempt

    @classmethod
    def of(cls, claim: Claim) -> ClaimedBackfill:
        return cls(
            claim=claim,
            account_id=claim.row["account_id"],
            company_id=claim.row["company_id"],
            form_id=claim.row["form_id"],
            completed_forms=tuple(claim.row["completed_forms"]),
        )


class BackfillRunner:
    # The job's claim (renewed with each heartbeat) and its finished forms and exports, set
    # by `run`.
    _claim: Claim
    _completed: list[str]

    def __init__(self, ads: AdsService) -> None:
        self.ads = ads
        self.lease = timedelta(seconds=ads.settings.leads_backfill_lease_seconds)
        self._renewed_at = utcnow()
        # Exports finish concurrently: their writes (each fenced by the claim) go one by one.
        self._writing = asyncio.Lock()
        self._refused: list[str] = []

    async def run(self, job: ClaimedBackfill) -> None:
        """Run a claimed job to its end (or until its lease is lost)."""
        self._claim, self._completed = job.claim, list(job.completed_forms)
        try:
            if job.attempt > MAX_ATTEMPTS:
                raise BackfillFailed(f"the worker stopped {MAX_ATTEMPTS} times before finishing")
            access = await self.ads.access(job.company_id, job.account_id)
            work = await self._work(access, job.form_id)
            forms = {target.form_key for target in work}
            await self._update(job, forms_total=len(forms))
            exporter = LeadExporter(self.ads, heartbeat=partial(self._heartbeat, job))
            pending = [target for target in work if not self._done(target)]
            await exporter.export_all(access, pending, partial(self._store, job, work))
        except LeaseLost:
            logger.info("backfill lease lost", extra={"backfill_id": str(job.id)})
            return
        except AppError as exc:
            log_id = exc.log_id if isinstance(exc, TikTokError) else None
            await self._fail(job, f"{exc.code}: {exc.detail_message}", log_id)
            return
        except (BackfillFailed, ExportFailed) as exc:
            await self._fail(job, str(exc), None)
            return
        await self._succeed(job, self._refused)

    async def _work(self, access: AdsAccess, form_id: str | None) -> list[ExportTarget]:
        work: list[ExportTarget] = []
        for advertiser in access.advertisers:
            forms = await self.ads.forms_of(access, advertiser.advertiser_id)
            work += targets_of(
                advertiser, [form for form in forms if form_id in (None, form.page_id)]
            )
        if form_id is not None and not work:
            raise BackfillFailed(f"form {form_id} is not a lead form of this account's advertisers")
        return work

    def _done(self, target: ExportTarget) -> bool:
        return target.form_key in self._completed or target.key in self._completed

    async def _heartbeat(self, job: ClaimedBackfill) -> None:
        """Renew the lease while long exports run (a third of it is used at most)."""
        if utcnow() - self._renewed_at > self.lease / 3:
            await self._update(job)

    async def _update(self, job: ClaimedBackfill, *, forms_total: int | None = None) -> None:
        async with self._writing, session_scope(self.ads.sessionmaker) as session:
            progress = {}
            if forms_total is not None:
                forms_done = sum(1 for key in self._completed if key.count(":") == 1)
                progress = {"forms_total": forms_total, "forms_done": forms_done}
            await self._renew(session, progress)

    async def _store(
        self, job: ClaimedBackfill, work: list[ExportTarget], read: ExportRead
    ) -> None:
        """Store one export's new leads with the job's progress, in one transaction."""
        target = read.target
        if read.refused is not None:
            self._refused.append(f"{target.form_key}:{target.region}:{read.refused}")
        if read.skipped_rows:
            logger.warning(
                "backfill rows skipped",
                extra={"backfill_id": str(job.id), "rows": read.skipped_rows[:10]},
            )
        counts = repository.BACKFILLS.table.c
        async with self._writing:
            completed = [*self._completed, target.key]
            # The form is done once each of its regions is.
            form_done = all(
                other.key in completed for other in work if other.form_key == target.form_key
            )
            if form_done:
                completed.append(target.form_key)
            async with session_scope(self.ads.sessionmaker) as session:
                # Renewed first: the job's row stays locked (PostgreSQL) while its leads go in.
                await self._renew(session)
                result = await leads.ingest(
                    session, read.leads, source=LeadSource.backfill, settings=self.ads.settings
                )
                progress = {
                    "forms_done": counts.forms_done + (1 if form_done else 0),
                    "leads_seen": counts.leads_seen + len(read.leads),
                    "leads_created": counts.leads_created + len(result.new_ids),
                    "completed_forms": completed,
                }
                await self._renew(session, progress)
            self._completed = completed

    async def _renew(self, session: AsyncSession, progress: dict[str, Any] | None = None) -> None:
        """Extend the lease, with `progress`, if the job is still this claim's."""
        now = utcnow()
        claim = await repository.BACKFILLS.renew(
            session, self._claim, lease_until=now + self.lease, values=progress
        )
        if claim is None:
            raise LeaseLost
        self._claim, self._renewed_at = claim, now

    async def _succeed(self, job: ClaimedBackfill, skipped_regions: list[str]) -> None:
        async with session_scope(self.ads.sessionmaker) as session:
            settled = await repository.BACKFILLS.done(
                session,
                [self._claim],
                values={"finished_at": utcnow()},
                returning=("forms_done", "leads_seen", "leads_created"),
            )
            if not settled:
                return  # the lease was lost
            [row] = settled
            audit.record(
                session,
                event="leads.backfill_succeeded",
                company_id=job.company_id,
                account_id=job.account_id,
                message=f"Backfill finished: {row['leads_seen']} leads in TikTok's export of "
                f"{row['forms_done']} forms, {row['leads_created']} of them new.",
                data={
                    "backfill_id": str(job.id),
                    "forms": row["forms_done"],
                    "leads_seen": row["leads_seen"],
                    "leads_created": row["leads_created"],
                    "regions_refused": skipped_regions,
                },
            )

    async def _fail(self, job: ClaimedBackfill, reason: str, log_id: str | None) -> None:
        logger.warning("backfill failed", extra={"backfill_id": str(job.id), "reason": reason})
        async with session_scope(self.ads.sessionmaker) as session:
            row = await repository.BACKFILLS.dead(
                session,
                self._claim,
                values={"finished_at": utcnow(), "error": reason[:1000]},
                returning=("forms_done", "forms_total"),
            )
            if row is None:
                return  # the lease was lost
            audit.record(
                session,
                event="leads.backfill_failed",
                company_id=job.company_id,
                account_id=job.account_id,
                level=LogLevel.error,
                message=f"Backfill failed after {row['forms_done']} of {row['forms_total']} "
                f"forms: {reason}",
                data={"backfill_id": str(job.id), "reason": reason[:1000], "log_id": log_id},
            )
