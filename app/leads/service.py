"""The rules for leads: store each TikTok lead once, give it to its advertiser's company,
and enqueue its CRM delivery in the same transaction (the outbox), so a lead is never
stored without its delivery nor delivered without being stored.

Nothing here commits: the request's session (or the caller's `session_scope`) does.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.advertisers import repository as advertisers_repository
from app.audit import service as audit
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import Conflict, NotFound
from app.core.metrics import LEAD_STORED_AGE
from app.core.security import Principal
from app.core.sql import storable_text
from app.events import outbox
from app.events import repository as events_repository
from app.events.models import CrmDelivery, DeliveryStatus, EventType
from app.leads import repository
from app.leads.models import Lead, LeadSource
from app.leads.parsing import MalformedDelivery, ParsedLead, parse_delivery
from app.leads.schemas import LeadOut, LeadWebhookAck
from app.webhooks import service as webhook_inbox
from app.webhooks.models import (
    LeadSignatureForm,
    LeadWebhookAuth,
    WebhookEventStatus,
    WebhookSource,
)

logger = logging.getLogger("app.leads")


class LeadNotFound(NotFound):
    code = "lead_not_found"
    message = "No such lead."


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"
    message = "No such CRM delivery."


class DeliveryNotDead(Conflict):
    code = "delivery_not_dead"
    message = "Only a dead delivery can be replayed."


@dataclass(frozen=True, slots=True)
class IngestResult:
    new_ids: list[uuid.UUID] = field(default_factory=list)
    duplicates: int = 0
    owned: int = 0  # new leads that belong to a company (announced, or to be)


async def _announce(
    session: AsyncSession,
    leads: list[Lead],
    now: datetime,
    settings: Settings,
    company_id: str | None = None,
) -> None:
    """Leads that now belong to a company (`company_id`, else each lead's own): a
    `lead.created` event each (the outbox), and a CRM delivery each when a CRM URL is
    configured; in the caller's transaction."""
    if not leads:
        return
    owners = [company_id or lead.company_id or "" for lead in leads]
    data = [LeadOut.from_lead(lead).model_dump(mode="json") for lead in leads]
    for item, owner in zip(data, owners, strict=True):
        item["company_id"] = owner
    # The outbox writes each event's CRM delivery (one per lead, however often announced).
    # The settings this ingest was handed decide whether leads are delivered.
    await outbox.emit_many(
        session,
        EventType.lead_created,
        ((owner, None, item) for owner, item in zip(owners, data, strict=True)),
        lead_ids=[lead.id for lead in leads],
        delivery=outbox.CrmDeliveryConfig.of(settings),
    )


def _lead_row(
    lead: ParsedLead,
    source: LeadSource,
    company_id: str | None,
    now: datetime,
    webhook_event_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    a = lead.attribution
    return {
        "id": uuid.uuid4(),
        "company_id": company_id,
        "tiktok_lead_id": lead.tiktok_lead_id,
        "advertiser_id": a.advertiser_id,
        "advertiser_name": a.advertiser_name,
        "form_id": a.form_id,
        "form_name": a.form_name,
        "campaign_id": a.campaign_id,
        "campaign_name": a.campaign_name,
        "adgroup_id": a.adgroup_id,
        "adgroup_name": a.adgroup_name,
        "ad_id": a.ad_id,
        "ad_name": a.ad_name,
        "lead_source": a.lead_source,
        "submitted_at": lead.submitted_at or now,
        "name": lead.name,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "answers": lead.answers,
        "raw": lead.raw,
        "source": source,
        "webhook_event_id": webhook_event_id,
        "is_test": False,
        "created_at": now,
        "updated_at": now,
    }


async def ingest(
    session: AsyncSession,
    leads: list[ParsedLead],
    *,
    source: LeadSource,
    settings: Settings,
    webhook_event_id: uuid.UUID | None = None,
) -> IngestResult:
    """Store the leads not stored yet (by TikTok lead id) and announce each new lead that
    has a company (`lead.created`, and a CRM delivery when a CRM URL is configured). Safe
    under concurrency: two transactions ingesting the same leads store them once and
    announce them once.

    With `webhook_event_id` (a lead webhook's inbox row) the new leads are marked with it
    and announced later, by that row's inbox pass (`announce_delivery`), so the webhook is
    answered after the lead rows alone are written."""
    now = utcnow()
    unique: dict[str, ParsedLead] = {}
    for lead in leads:
        unique.setdefault(lead.tiktok_lead_id, lead)
    advertisers = [
        lead.attribution.advertiser_id for lead in unique.values() if lead.attribution.advertiser_id
    ]
    companies = await advertisers_repository.owners(session, advertisers)
    rows = {
        lead_id: _lead_row(
            lead,
            source,
            companies.get(lead.attribution.advertiser_id or ""),
            now,
            webhook_event_id,
        )
        for lead_id, lead in unique.items()
    }
    probed = await _mark_probe_leads(session, unique, rows)
    inserted = await repository.insert_new_leads(session, list(rows.values()))
    stored_age = LEAD_STORED_AGE.labels(source.value)
    for _, tiktok_lead_id in inserted:
        stored_age.observe(max(0.0, (now - rows[tiktok_lead_id]["submitted_at"]).total_seconds()))
    for probe_id, tiktok_lead_id in probed.items():
        await repository.name_probe_lead(session, probe_id, tiktok_lead_id)
    owned = [
        rows[tiktok_lead_id]
        for _, tiktok_lead_id in inserted
        if rows[tiktok_lead_id]["company_id"] is not None and not rows[tiktok_lead_id]["is_test"]
    ]
    if webhook_event_id is None:
        await _announce(session, [Lead(**row) for row in owned], now, settings)
    return IngestResult(
        new_ids=[row_id for row_id, _ in inserted],
        duplicates=len(leads) - len(inserted),
        owned=len(owned),
    )


async def _mark_probe_leads(
    session: AsyncSession, leads: dict[str, ParsedLead], rows: dict[str, dict[str, Any]]
) -> dict[uuid.UUID, str]:
    """Mark the test leads of waiting probes (`is_test`: stored, never announced); the
    probes that learn their lead's id from it.

    A probe's lead is the one with its id or, before TikTok's answer told the id (TikTok
    delivers the mock lead's webhook at once), a lead of its form with no ad: a real lead
    always comes from an ad."""
    forms = {lead.attribution.form_id for lead in leads.values() if lead.attribution.form_id}
    probes = await repository.waiting_probes(session, sorted(forms))
    named: dict[uuid.UUID, str] = {}
    for tiktok_lead_id, lead in leads.items():
        for probe_id, form_id, probe_lead_id in probes:
            if probe_lead_id == tiktok_lead_id or (
                probe_lead_id is None
                and probe_id not in named
                and form_id == lead.attribution.form_id
                and lead.attribution.ad_id in (None, "", "0")
            ):
                rows[tiktok_lead_id]["is_test"] = True
                if probe_lead_id is None:
                    named[probe_id] = tiktok_lead_id
                break
    return named


async def announce_test_lead(session: AsyncSession, lead: Lead, settings: Settings) -> None:
    """A probe that asked for it: its test lead is announced like any (`lead.created`)."""
    await _announce(session, [lead], utcnow(), settings)


async def attach_unassigned(
    session: AsyncSession, advertiser_id: str, company_id: str, settings: Settings
) -> int:
    """Give the advertiser's unassigned leads to the company and enqueue their CRM
    deliveries (when a CRM URL is configured); how many leads were attached. Call it once
    the advertiser's `TikTokAdvertiser` row is written (a background pass also catches
    leads that raced with the connection)."""
    attached = await repository.assign_unassigned(session, advertiser_id, company_id)
    if attached:
        leads = await repository.leads_by_id(session, attached)
        await _announce(session, leads, utcnow(), settings, company_id)
        logger.info(
            "unassigned leads attached",
            extra={
                "advertiser_id": advertiser_id,
                "company_id": company_id,
                "leads": len(attached),
            },
        )
    return len(attached)


@dataclass(frozen=True, slots=True)
class LeadWebhookReceipt:
    ack: LeadWebhookAck
    # The delivery's inbox row waits for its pass (new leads to announce): wake the job.
    pending: bool = False


async def receive_webhook(
    session: AsyncSession,
    body: bytes,
    auth_method: LeadWebhookAuth,
    settings: Settings,
    *,
    signature_form: LeadSignatureForm | None = None,
) -> LeadWebhookReceipt:
    """Store an authenticated lead webhook (one inbox row) and its new leads, in the
    caller's short transaction; `signature_form` says which bytes its signature covered
    (None for the URL token). The new leads' `lead.created` events and CRM deliveries are
    written by the row's inbox pass (`announce_delivery`), not before the answer."""
    delivery_id = uuid.uuid4()
    received_at = utcnow()
    row: dict[str, Any] = {
        "id": delivery_id,
        "source": WebhookSource.tiktok_leadgen,
        "dedupe_key": delivery_id.hex,
        "received_at": received_at,
        "next_attempt_at": received_at,  # due for its inbox pass once stored
        "body": storable_text(body),
        "auth_method": auth_method,
        "signature_form": signature_form,
        "attempts": 0,
        "entry_count": 0,
        "new_lead_count": 0,
    }
    try:
        parsed = parse_delivery(body)
    except MalformedDelivery as exc:
        await webhook_inbox.store(
            session, **row, status=WebhookEventStatus.rejected, reason=str(exc)
        )
        logger.warning(
            "lead webhook rejected", extra={"delivery_id": str(delivery_id), "reason": str(exc)}
        )
        return LeadWebhookReceipt(LeadWebhookAck(status="rejected", reason=str(exc)))
    if parsed.kind == "ignored":
        await webhook_inbox.store(
            session, **row, status=WebhookEventStatus.ignored, reason=parsed.reason
        )
        return LeadWebhookReceipt(LeadWebhookAck(status="ignored", reason=parsed.reason))
    result = await ingest(
        session,
        parsed.leads,
        source=LeadSource.webhook,
        settings=settings,
        webhook_event_id=delivery_id,
    )
    # Nothing to announce (duplicates, or leads of an advertiser no company has connected
    # yet: the attach job announces those): the row is settled now.
    pending = result.owned > 0
    row.update(
        status=WebhookEventStatus.received if pending else WebhookEventStatus.processed,
        processed_at=None if pending else row["received_at"],
        reason=parsed.reason,
        entry_count=parsed.entry_count,
        new_lead_count=len(result.new_ids),
    )
    await webhook_inbox.store(session, **row)
    if parsed.skipped:
        logger.warning(
            "lead webhook entries skipped",
            extra={"delivery_id": str(delivery_id), "reason": parsed.reason},
        )
    ack = LeadWebhookAck(
        status="accepted", entries=parsed.entry_count, new=len(result.new_ids), reason=parsed.reason
    )
    return LeadWebhookReceipt(ack, pending=pending)


async def announce_delivery(
    session: AsyncSession, delivery: webhook_inbox.InboxItem, settings: Settings
) -> None:
    """The inbox pass of a lead webhook delivery: announce the new leads it stored that
    belong to a company. Runs once per delivery (the inbox settles the row in this
    transaction); a lead is announced once (its CRM delivery is unique per lead)."""
    leads = await repository.owned_leads_of_delivery(session, delivery.id)
    await _announce(session, leads, utcnow(), settings)


async def get_lead(session: AsyncSession, principal: Principal, lead_id: uuid.UUID) -> Lead:
    lead = await repository.get_lead(session, principal.company_id, lead_id)
    if lead is None:
        raise LeadNotFound
    return lead


async def replay(
    session: AsyncSession, principal: Principal, delivery_id: uuid.UUID
) -> CrmDelivery:
    """A dead delivery goes back to `pending` with its attempts (and retry window) reset."""
    delivery = await repository.lock_delivery(session, principal.company_id, delivery_id)
    if delivery is None:
        raise DeliveryNotFound
    if delivery.status != DeliveryStatus.dead:
        raise DeliveryNotDead(details={"status": delivery.status.value})
    await events_repository.requeue_dead(session, CrmDelivery.id == delivery.id, utcnow())
    await session.refresh(delivery)
    audit.record(
        session,
        event="lead.delivery_replayed",
        company_id=principal.company_id,
        message="A dead CRM delivery was queued again.",
        data={"delivery_id": str(delivery.id), "lead_id": str(delivery.lead_id)},
        actor=principal.actor,
    )
    return delivery


async def list_leads(
    session: AsyncSession,
    principal: Principal,
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
    return await repository.list_leads(
        session,
        principal.company_id,
        since=since,
        form_id=form_id,
        campaign_id=campaign_id,
        advertiser_id=advertiser_id,
        has_email=has_email,
        has_phone=has_phone,
        cursor=cursor,
        limit=limit,
    )


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    *,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> list[CrmDelivery]:
    return await repository.list_deliveries(
        session, principal.company_id, status=status, cursor=cursor, limit=limit
    )
