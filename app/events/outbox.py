"""Writing events: one row per event, in the caller's transaction (see `models`), and with it
the event's CRM delivery (`CrmDelivery`) when delivery is configured for its type.

This is the one place a delivery is created, so an event and its delivery commit together or
not at all. Whether to deliver is not global state: the configuration
(`CrmDeliveryConfig`) travels with the session. The runtime puts it in its sessionmaker's
`info` (`configure`), so every session of a process that delivers carries it, and
sessionmakers built elsewhere (tools, tests) deliver nothing unless they are configured the
same way. A caller that was handed the settings explicitly (the leads' ingest) may pass a
configuration itself, which then decides for its events.

The body of every delivery is `{"type", "timestamp", "data"}`: the event's type, creation
time (ISO 8601, `Z`) and data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.db import utcnow
from app.core.sql import dialect_insert
from app.events.models import CrmDelivery, DeliveryStatus, Event, EventType

# The key of `Session.info` that holds a session's `CrmDeliveryConfig` (or None).
SESSION_INFO_KEY: Final = "app.events.crm_delivery"
EVENTS = cast(Table, Event.__table__)
DELIVERIES = cast(Table, CrmDelivery.__table__)


class _FromSession:
    """The default of `delivery=`: the session's configuration (`SESSION_INFO_KEY`)."""


FROM_SESSION: Final = _FromSession()


@dataclass(frozen=True, slots=True)
class CrmDeliveryConfig:
    """Which events get a CRM delivery: those of `types`."""

    types: frozenset[EventType]

    @classmethod
    def of(cls, settings: Settings) -> CrmDeliveryConfig | None:
        """From the settings: None without a CRM URL; every type unless CRM_WEBHOOK_EVENTS
        names some (an unknown name is a configuration error)."""
        if not settings.crm_url:
            return None
        if not settings.crm_webhook_events:
            return cls(frozenset(EventType))
        known = {item.value for item in EventType}
        unknown = [name for name in settings.crm_webhook_events if name not in known]
        if unknown:
            raise ValueError(
                f"CRM_WEBHOOK_EVENTS: unknown event type(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(frozenset(EventType(name) for name in settings.crm_webhook_events))

    def delivers(self, type: EventType) -> bool:
        return type in self.types


Delivery = CrmDeliveryConfig | None | _FromSession


def configure(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """Sessions of `sessionmaker` create the CRM deliveries `settings` configure."""
    sessionmaker.configure(info={SESSION_INFO_KEY: CrmDeliveryConfig.of(settings)})


def delivery_config(
    session: AsyncSession, delivery: Delivery = FROM_SESSION
) -> CrmDeliveryConfig | None:
    if isinstance(delivery, _FromSession):
        config = session.info.get(SESSION_INFO_KEY)
        return config if isinstance(config, CrmDeliveryConfig) else None
    return delivery


def payload(type: EventType, created_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The body the CRM receives for an event."""
    return {
        "type": type.value,
        "timestamp": created_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def _delivery_row(
    event_id: uuid.UUID,
    type: EventType,
    company_id: str,
    data: dict[str, Any],
    created_at: datetime,
    lead_id: uuid.UUID | None,
) -> dict[str, Any]:
    return {
        "id": event_id,
        "event_id": event_id,
        "lead_id": lead_id,
        "company_id": company_id,
        "event_type": type.value,
        "payload": payload(type, created_at, data),
        "status": DeliveryStatus.pending,
        "attempts": 0,
        "next_attempt_at": created_at,
        "created_at": created_at,
    }


def emit(
    session: AsyncSession,
    type: EventType,
    *,
    company_id: str,
    account_id: uuid.UUID | None,
    data: dict[str, Any],
    delivery: Delivery = FROM_SESSION,
) -> Event:
    """Add one event to the session (committed, or not, with the caller's change), and its
    CRM delivery when configured for its type."""
    now = utcnow()
    event = Event(
        id=uuid.uuid4(),
        company_id=company_id,
        type=type,
        account_id=account_id,
        data=data,
        created_at=now,
    )
    session.add(event)
    config = delivery_config(session, delivery)
    if config is not None and config.delivers(type):
        session.add(CrmDelivery(**_delivery_row(event.id, type, company_id, data, now, None)))
    return event


async def emit_many(
    session: AsyncSession,
    type: EventType,
    rows: Iterable[tuple[str, uuid.UUID | None, dict[str, Any]]],
    *,
    lead_ids: Sequence[uuid.UUID] | None = None,
    delivery: Delivery = FROM_SESSION,
) -> int:
    """Many events of one type in one INSERT (a webhook batch of leads): (company, account,
    data) each; how many were written. With `lead_ids` (one per row) each delivery names its
    lead, and a lead whose delivery of this type exists already gets no second one."""
    now = utcnow()
    events = [(uuid.uuid4(), company_id, account_id, data) for company_id, account_id, data in rows]
    if lead_ids is not None and len(lead_ids) != len(events):
        raise ValueError("one lead id per event")
    if not events:
        return 0
    values = [
        {
            "id": event_id,
            "company_id": company_id,
            "type": type,
            "account_id": account_id,
            "data": data,
            "created_at": now,
        }
        for event_id, company_id, account_id, data in events
    ]
    # Core statements executed for many rows (insertmanyvalues: multi-row INSERTs from one
    # cached compilation), not the ORM's bulk path nor a statement compiled per batch.
    await session.execute(insert(EVENTS), values)
    config = delivery_config(session, delivery)
    if config is not None and config.delivers(type):
        deliveries = [
            _delivery_row(
                event_id,
                type,
                company_id,
                data,
                now,
                lead_ids[index] if lead_ids is not None else None,
            )
            for index, (event_id, company_id, _, data) in enumerate(events)
        ]
        statement = dialect_insert(session)(DELIVERIES).on_conflict_do_nothing(
            index_elements=[DELIVERIES.c.lead_id, DELIVERIES.c.event_type]
        )
        await session.execute(statement, deliveries)
    return len(values)
