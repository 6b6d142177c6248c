"""The end-to-end probe of a lead form: is a lead submitted now stored, and how fast?

`POST /accounts/{id}/leads/probe/ {"form_id"}`: a probe row is written first (`waiting`),
then TikTok makes a test lead with its mock-lead API (`page/lead/mock/create/`), which it
delivers to live subscriptions like a real one. Ingest marks the lead `is_test` (it knows
the waiting probe: by the lead id TikTok answered, or, when the webhook comes first, as
the form's lead with no ad) and does not announce it. The probe waits up to
LEADS_PROBE_TIMEOUT_SECONDS for it; if no webhook brought it, the form's export is read and
the lead stored from it (`arrived_by: reconciliation`). With `deliver: true` the lead is
announced (`lead.created`, a CRM delivery) and the probe waits as long again for the CRM's
acknowledgement. Last, the mock lead is deleted at TikTok (`page/lead/mock/delete/`; TikTok
keeps one per form). TikTok is never called inside a transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from functools import partial

from sqlalchemy import select

from app.ads.export import ExportFailed, ExportTarget, LeadExporter
from app.ads.service import AdsAccess, AdsService, AdvertiserRef
from app.core.db import session_scope, utcnow
from app.core.errors import AppError, NotFound
from app.core.security import Principal
from app.events.models import CrmDelivery, DeliveryStatus
from app.leads import service as leads
from app.leads.models import Lead, LeadProbe, LeadSource, ProbeStatus
from app.tiktok.business_schemas import LeadForm
from app.tiktok.errors import TikTokError

logger = logging.getLogger("app.ads.probe")

POLL_SECONDS = 0.2


class LeadFormNotFound(NotFound):
    code = "lead_form_not_found"
    message = "No such lead form among the account's advertisers."


class ProbeRunner:
    def __init__(self, ads: AdsService) -> None:
        self.ads = ads
        self.timeout = ads.settings.leads_probe_timeout_seconds

    async def run(
        self, principal: Principal, account_id: uuid.UUID, form_id: str, *, deliver: bool
    ) -> LeadProbe:
        access = await self.ads.access(principal.company_id, account_id)
        advertiser, form = await self._form(access, form_id)
        probe_id = await self._start(access, advertiser, form_id, deliver)
        client = self.ads.client()
        started = time.monotonic()
        try:
            lead_id = await self.ads.call(
                access,
                partial(
                    client.create_mock_lead,
                    advertiser_id=advertiser.advertiser_id,
                    page_id=form_id,
                ),
            )
        except AppError as exc:
            return await self._finish(probe_id, ProbeStatus.failed, error=_reason(exc))
        if lead_id is not None:
            await self._name(probe_id, lead_id)
        deleted = False
        try:
            lead = await self._arrival(probe_id, started)
            if lead is None:
                target = ExportTarget(advertiser, form, None)
                lead = await self._from_export(access, target, probe_id)
            acknowledged = await self._delivered(lead) if lead is not None and deliver else None
        except BaseException:
            with contextlib.suppress(Exception):
                await self._finish(probe_id, ProbeStatus.failed, error="the probe stopped")
            raise
        finally:
            # TikTok keeps one test lead per form: delete it whatever happened.
            deleted = await self._delete_mock(access, advertiser.advertiser_id, form_id)
        status = ProbeStatus.arrived if lead is not None else ProbeStatus.missing
        return await self._finish(
            probe_id, status, lead=lead, acknowledged=acknowledged, deleted=deleted
        )

    async def _form(self, access: AdsAccess, form_id: str) -> tuple[AdvertiserRef, LeadForm]:
        for advertiser in access.advertisers:
            for form in await self.ads.forms_of(access, advertiser.advertiser_id):
                if form.page_id == form_id:
                    return advertiser, form
        raise LeadFormNotFound(details={"form_id": form_id})

    async def _start(
        self, access: AdsAccess, advertiser: AdvertiserRef, form_id: str, deliver: bool
    ) -> uuid.UUID:
        probe = LeadProbe(
            id=uuid.uuid4(),
            company_id=access.company_id,
            account_id=access.account_id,
            advertiser_id=advertiser.advertiser_id,
            form_id=form_id,
            deliver=deliver,
            status=ProbeStatus.waiting,
            crm_acknowledged=False,
            mock_deleted=False,
            created_at=utcnow(),
        )
        async with session_scope(self.ads.sessionmaker) as session:
            session.add(probe)
        return probe.id

    async def _probe(self, probe_id: uuid.UUID) -> LeadProbe:
        async with self.ads.sessionmaker() as session:
            probe = await session.get(LeadProbe, probe_id)
        if probe is None:  # the account was deleted meanwhile
            raise LeadFormNotFound
        return probe

    async def _name(self, probe_id: uuid.UUID, lead_id: str) -> None:
        async with session_scope(self.ads.sessionmaker) as session:
            probe = await session.get(LeadProbe, probe_id)
            if probe is not None and probe.tiktok_lead_id is None:
                probe.tiktok_lead_id = lead_id

    async def _stored(self, probe: LeadProbe) -> Lead | None:
        if probe.tiktok_lead_id is None:
            return None
        async with self.ads.sessionmaker() as session:
            query = select(Lead).where(Lead.tiktok_lead_id == probe.tiktok_lead_id)
            return (await session.scalars(query)).one_or_none()

    async def _arrival(self, probe_id: uuid.UUID, started: float) -> Lead | None:
        """The test lead once stored (by its webhook), or None after the timeout."""
        while True:
            lead = await self._stored(await self._probe(probe_id))
            if lead is not None or time.monotonic() - started > self.timeout:
                return lead
            await asyncio.sleep(POLL_SECONDS)

    async def _from_export(
        self, access: AdsAccess, target: ExportTarget, probe_id: uuid.UUID
    ) -> Lead | None:
        """No webhook brought it: the lead from the form's export, as reconciliation would."""
        probe = await self._probe(probe_id)
        if probe.tiktok_lead_id is None:
            return None
        try:
            read = await LeadExporter(self.ads).read(access, target)
        except (TikTokError, ExportFailed) as exc:
            logger.warning(
                "probe export failed", extra={"form_id": target.form.page_id, "error": str(exc)}
            )
            return None
        found = [lead for lead in read.leads if lead.tiktok_lead_id == probe.tiktok_lead_id]
        if found:
            async with session_scope(self.ads.sessionmaker) as session:
                await leads.ingest(
                    session, found, source=LeadSource.reconciliation, settings=self.ads.settings
                )
        return await self._stored(probe)

    async def _delivered(self, lead: Lead) -> bool:
        """Announce the test lead, then wait for the CRM's acknowledgement of it."""
        async with session_scope(self.ads.sessionmaker) as session:
            await leads.announce_test_lead(session, lead, self.ads.settings)
        started = time.monotonic()
        while time.monotonic() - started <= self.timeout:
            async with self.ads.sessionmaker() as session:
                query = select(CrmDelivery.status).where(CrmDelivery.lead_id == lead.id)
                status = (await session.scalars(query)).first()
            if status is None:
                return False  # no CRM is configured
            if status == DeliveryStatus.delivered:
                return True
            await asyncio.sleep(POLL_SECONDS)
        return False

    async def _delete_mock(self, access: AdsAccess, advertiser_id: str, form_id: str) -> bool:
        client = self.ads.client()
        try:
            await self.ads.call(
                access,
                partial(client.delete_mock_lead, advertiser_id=advertiser_id, page_id=form_id),
            )
        except AppError as exc:
            logger.warning(
                "probe's test lead not deleted", extra={"form_id": form_id, "error": _reason(exc)}
            )
            return False
        return True

    async def _finish(
        self,
        probe_id: uuid.UUID,
        status: ProbeStatus,
        *,
        lead: Lead | None = None,
        acknowledged: bool | None = None,
        deleted: bool = False,
        error: str | None = None,
    ) -> LeadProbe:
        async with session_scope(self.ads.sessionmaker) as session:
            probe = await session.get(LeadProbe, probe_id)
            if probe is None:
                raise LeadFormNotFound
            probe.status = status
            probe.finished_at = utcnow()
            probe.error = error
            probe.mock_deleted = deleted
            if lead is not None:
                probe.tiktok_lead_id = lead.tiktok_lead_id
                probe.arrived_by = lead.source.value
                probe.stored_seconds = round(
                    (lead.created_at - probe.created_at).total_seconds(), 3
                )
            if acknowledged:
                probe.crm_acknowledged = True
                probe.acknowledged_seconds = round(
                    (probe.finished_at - probe.created_at).total_seconds(), 3
                )
        return probe


def _reason(exc: AppError) -> str:
    return f"{exc.code}: {exc.detail_message}"[:1000]
