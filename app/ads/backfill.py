"""The backfill worker: recover missed leads from TikTok's lead export.

For each advertiser of the account, each form (the one asked for, or all) and each region
(the default one, then `eu` and `us`, whose leads only come back when asked for by name):
create an export task, poll it with bounded attempts and backoff, download the file and
read it (`csv_export`). A form's leads go through `leads.service.ingest` like webhook
leads, so a lead already stored (by webhook or an earlier backfill) is not stored again;
the form's progress is committed with them. Every write is fenced by the job's claim
number: a worker whose lease lapsed (and whose job another worker took over) stops.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from app.ads import repository
from app.ads.csv_export import ExportFormatError, parse_export
from app.ads.models import BackfillJob, BackfillStatus
from app.ads.service import AdsAccess, AdsService, AdvertiserRef
from app.audit import service as audit
from app.audit.models import LogLevel
from app.core.db import session_scope, utcnow
from app.core.errors import AppError
from app.leads import service as leads
from app.leads.models import LeadSource
from app.leads.parsing import ParsedLead
from app.tiktok.business_schemas import LeadForm
from app.tiktok.errors import TikTokBadRequest, TikTokError, TikTokScopeNotGranted

logger = logging.getLogger("app.ads.backfill")

# None: the default region; EU/UK and US leads only come back when asked for by name.
REGIONS: tuple[str | None, ...] = (None, "eu", "us")
MAX_POLL_DELAY_SECONDS = 30.0
# A job whose worker stopped this many times (crash, deploy) is failed, not retried forever.
MAX_ATTEMPTS = 3
SUCCEEDED = "SUCCEED"
FAILED = "FAILED"


class BackfillFailed(Exception):
    """The job cannot go on; the message is the reason recorded on it."""


class LeaseLost(Exception):
    """Another worker took the job over (our lease lapsed) or it was stopped."""


@dataclass(frozen=True, slots=True)
class ClaimedBackfill:
    id: uuid.UUID
    account_id: uuid.UUID
    company_id: str
    form_id: str | None
    attempt: int
    completed_forms: frozenset[str]

    @classmethod
    def of(cls, job: BackfillJob) -> ClaimedBackfill:
        return cls(
            id=job.id,
            account_id=job.account_id,
            company_id=job.company_id,
            form_id=job.form_id,
            attempt=job.attempts,
            completed_forms=frozenset(job.completed_forms),
        )


@dataclass(frozen=True, slots=True)
class _FormWork:
    advertiser: AdvertiserRef
    form: LeadForm

    @property
    def key(self) -> str:
        return f"{self.advertiser.advertiser_id}:{self.form.page_id}"


class BackfillRunner:
    def __init__(self, ads: AdsService) -> None:
        self.ads = ads
        settings = ads.settings
        self.lease = timedelta(seconds=settings.leads_backfill_lease_seconds)
        self.poll_seconds = settings.leads_backfill_poll_seconds
        self.poll_attempts = settings.leads_backfill_poll_attempts
        self._renewed_at = utcnow()

    async def run(self, job: ClaimedBackfill) -> None:
        """Run a claimed job to its end (or until its lease is lost)."""
        try:
            if job.attempt > MAX_ATTEMPTS:
                raise BackfillFailed(f"the worker stopped {MAX_ATTEMPTS} times before finishing")
            access = await self.ads.access(job.company_id, job.account_id)
            work = await self._work(access, job.form_id)
            await self._update(job, forms_total=len(work))
            skipped_regions: list[str] = []
            for item in work:
                if item.key not in job.completed_forms:
                    skipped_regions += await self._backfill_form(job, access, item)
        except LeaseLost:
            logger.info("backfill lease lost", extra={"backfill_id": str(job.id)})
            return
        except AppError as exc:
            log_id = exc.log_id if isinstance(exc, TikTokError) else None
            await self._fail(job, f"{exc.code}: {exc.detail_message}", log_id)
            return
        except BackfillFailed as exc:
            await self._fail(job, str(exc), None)
            return
        await self._succeed(job, skipped_regions)

    async def _work(self, access: AdsAccess, form_id: str | None) -> list[_FormWork]:
        work: list[_FormWork] = []
        for advertiser in access.advertisers:
            for form in await self.ads.forms_of(access, advertiser.advertiser_id):
                if form_id is None or form.page_id == form_id:
                    work.append(_FormWork(advertiser, form))
        if form_id is not None and not work:
            raise BackfillFailed(f"form {form_id} is not a lead form of this account's advertisers")
        return work

    async def _backfill_form(
        self, job: ClaimedBackfill, access: AdsAccess, item: _FormWork
    ) -> list[str]:
        """Export, read and store one form's leads; the regions TikTok refused."""
        leads: dict[str, ParsedLead] = {}
        skipped: list[str] = []
        for region in REGIONS:
            try:
                content = await self._export(job, access, item, region)
            except (TikTokBadRequest, TikTokScopeNotGranted) as exc:
                if region is None:
                    raise
                # An advertiser without leads in a region may be refused the region.
                skipped.append(f"{item.key}:{region}:{exc.code}")
                continue
            try:
                parsed = parse_export(
                    content,
                    advertiser_id=item.advertiser.advertiser_id,
                    advertiser_name=item.advertiser.advertiser_name,
                    form_id=item.form.page_id,
                    form_name=item.form.title,
                    region=region,
                )
            except ExportFormatError as exc:
                raise BackfillFailed(
                    f"the export of form {item.form.page_id} is unreadable: {exc}"
                ) from exc
            if parsed.skipped:
                logger.warning(
                    "backfill rows skipped",
                    extra={"backfill_id": str(job.id), "rows": parsed.skipped[:10]},
                )
            for lead in parsed.leads:
                leads.setdefault(lead.tiktok_lead_id, lead)
        await self._store(job, item.key, list(leads.values()))
        return skipped

    async def _export(
        self, job: ClaimedBackfill, access: AdsAccess, item: _FormWork, region: str | None
    ) -> bytes:
        client = self.ads.client()
        advertiser_id, form_id = item.advertiser.advertiser_id, item.form.page_id
        task_id = await self.ads.call(
            access,
            partial(
                client.create_lead_task, advertiser_id=advertiser_id, page_id=form_id, region=region
            ),
        )
        delay = self.poll_seconds
        for _ in range(self.poll_attempts):
            await asyncio.sleep(delay)
            await self._heartbeat(job)
            status = await self.ads.call(
                access,
                partial(
                    client.lead_task_status,
                    advertiser_id=advertiser_id,
                    page_id=form_id,
                    task_id=task_id,
                    region=region,
                ),
            )
            if status == SUCCEEDED:
                return await self.ads.call(
                    access,
                    partial(
                        client.download_leads,
                        advertiser_id=advertiser_id,
                        task_id=task_id,
                        region=region,
                    ),
                )
            if status == FAILED:
                raise BackfillFailed(
                    f"TikTok's export task for form {form_id}"
                    + (f" (region {region})" if region else "")
                    + " failed"
                )
            delay = min(max(delay * 2, 0.01), MAX_POLL_DELAY_SECONDS)
        raise BackfillFailed(
            f"TikTok's export task for form {form_id} did not finish after "
            f"{self.poll_attempts} polls"
        )

    async def _heartbeat(self, job: ClaimedBackfill) -> None:
        """Renew the lease while a long export runs (a third of it is used at most)."""
        if utcnow() - self._renewed_at > self.lease / 3:
            await self._update(job)

    async def _update(self, job: ClaimedBackfill, *, forms_total: int | None = None) -> None:
        async with session_scope(self.ads.sessionmaker) as session:
            row = await self._claimed(session, job)
            if forms_total is not None:
                row.forms_total = forms_total
                row.forms_done = len(job.completed_forms)
            self._renew(row)

    async def _store(self, job: ClaimedBackfill, key: str, parsed: list[ParsedLead]) -> None:
        async with session_scope(self.ads.sessionmaker) as session:
            row = await self._claimed(session, job)
            result = await leads.ingest(
                session, parsed, source=LeadSource.backfill, settings=self.ads.settings
            )
            row.forms_done += 1
            row.leads_seen += len(parsed)
            row.leads_created += len(result.new_ids)
            row.completed_forms = [*row.completed_forms, key]
            self._renew(row)

    async def _claimed(self, session: AsyncSession, job: ClaimedBackfill) -> BackfillJob:
        row = await repository.lock_backfill_claim(session, job.id, job.attempt)
        if row is None:
            raise LeaseLost
        return row

    def _renew(self, row: BackfillJob) -> None:
        self._renewed_at = utcnow()
        row.lease_until = self._renewed_at + self.lease

    async def _succeed(self, job: ClaimedBackfill, skipped_regions: list[str]) -> None:
        async with session_scope(self.ads.sessionmaker) as session:
            try:
                row = await self._claimed(session, job)
            except LeaseLost:
                return
            self._finish(row, BackfillStatus.succeeded, utcnow())
            audit.record(
                session,
                event="leads.backfill_succeeded",
                company_id=job.company_id,
                account_id=job.account_id,
                message=f"Backfill finished: {row.leads_seen} leads in TikTok's export of "
                f"{row.forms_done} forms, {row.leads_created} of them new.",
                data={
                    "backfill_id": str(job.id),
                    "forms": row.forms_done,
                    "leads_seen": row.leads_seen,
                    "leads_created": row.leads_created,
                    "regions_refused": skipped_regions,
                },
            )

    async def _fail(self, job: ClaimedBackfill, reason: str, log_id: str | None) -> None:
        logger.warning("backfill failed", extra={"backfill_id": str(job.id), "reason": reason})
        async with session_scope(self.ads.sessionmaker) as session:
            try:
                row = await self._claimed(session, job)
            except LeaseLost:
                return
            self._finish(row, BackfillStatus.failed, utcnow())
            row.error = reason[:1000]
            audit.record(
                session,
                event="leads.backfill_failed",
                company_id=job.company_id,
                account_id=job.account_id,
                level=LogLevel.error,
                message=f"Backfill failed after {row.forms_done} of {row.forms_total} forms: "
                f"{reason}",
                data={"backfill_id": str(job.id), "reason": reason[:1000], "log_id": log_id},
            )

    @staticmethod
    def _finish(row: BackfillJob, status: BackfillStatus, now: datetime) -> None:
        row.status = status
        row.finished_at = now
        row.lease_until = None
