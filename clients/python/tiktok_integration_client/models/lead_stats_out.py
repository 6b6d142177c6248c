from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.lead_stats_out_by_source import LeadStatsOutBySource


T = TypeVar("T", bound="LeadStatsOut")


@_attrs_define
class LeadStatsOut:
    """Lead freshness over the last day (leads stored since `since`).

    Attributes:
        acknowledged (int): Leads of the window the CRM acknowledged
        acknowledged_seconds_p50 (float | None): TikTok's create_time to the CRM's acknowledgement, median
        acknowledged_seconds_p99 (float | None):
        backlog (int): Lead deliveries the CRM has not acknowledged yet
        by_source (LeadStatsOutBySource): Of those, by how they came: webhook, backfill, reconciliation (a lost webhook
            each)
        leads (int): Leads stored in the window
        oldest_undelivered_age_seconds (float | None):
        oldest_undelivered_at (datetime.datetime | None): When the oldest of them was queued (null: none)
        since (datetime.datetime): Start of the window (now minus one day)
        stored_seconds_p50 (float | None): TikTok's create_time to our storage, median (null: no lead)
        stored_seconds_p99 (float | None):
    """

    acknowledged: int
    acknowledged_seconds_p50: float | None
    acknowledged_seconds_p99: float | None
    backlog: int
    by_source: LeadStatsOutBySource
    leads: int
    oldest_undelivered_age_seconds: float | None
    oldest_undelivered_at: datetime.datetime | None
    since: datetime.datetime
    stored_seconds_p50: float | None
    stored_seconds_p99: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        acknowledged = self.acknowledged

        acknowledged_seconds_p50: float | None
        acknowledged_seconds_p50 = self.acknowledged_seconds_p50

        acknowledged_seconds_p99: float | None
        acknowledged_seconds_p99 = self.acknowledged_seconds_p99

        backlog = self.backlog

        by_source = self.by_source.to_dict()

        leads = self.leads

        oldest_undelivered_age_seconds: float | None
        oldest_undelivered_age_seconds = self.oldest_undelivered_age_seconds

        oldest_undelivered_at: None | str
        if isinstance(self.oldest_undelivered_at, datetime.datetime):
            oldest_undelivered_at = self.oldest_undelivered_at.isoformat()
        else:
            oldest_undelivered_at = self.oldest_undelivered_at

        since = self.since.isoformat()

        stored_seconds_p50: float | None
        stored_seconds_p50 = self.stored_seconds_p50

        stored_seconds_p99: float | None
        stored_seconds_p99 = self.stored_seconds_p99

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "acknowledged": acknowledged,
                "acknowledged_seconds_p50": acknowledged_seconds_p50,
                "acknowledged_seconds_p99": acknowledged_seconds_p99,
                "backlog": backlog,
                "by_source": by_source,
                "leads": leads,
                "oldest_undelivered_age_seconds": oldest_undelivered_age_seconds,
                "oldest_undelivered_at": oldest_undelivered_at,
                "since": since,
                "stored_seconds_p50": stored_seconds_p50,
                "stored_seconds_p99": stored_seconds_p99,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.lead_stats_out_by_source import LeadStatsOutBySource  # noqa: PLC0415

        d = dict(src_dict)
        acknowledged = d.pop("acknowledged")

        def _parse_acknowledged_seconds_p50(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        acknowledged_seconds_p50 = _parse_acknowledged_seconds_p50(d.pop("acknowledged_seconds_p50"))

        def _parse_acknowledged_seconds_p99(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        acknowledged_seconds_p99 = _parse_acknowledged_seconds_p99(d.pop("acknowledged_seconds_p99"))

        backlog = d.pop("backlog")

        by_source = LeadStatsOutBySource.from_dict(d.pop("by_source"))

        leads = d.pop("leads")

        def _parse_oldest_undelivered_age_seconds(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        oldest_undelivered_age_seconds = _parse_oldest_undelivered_age_seconds(d.pop("oldest_undelivered_age_seconds"))

        def _parse_oldest_undelivered_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                oldest_undelivered_at_type_0 = datetime.datetime.fromisoformat(data)

                return oldest_undelivered_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        oldest_undelivered_at = _parse_oldest_undelivered_at(d.pop("oldest_undelivered_at"))

        since = datetime.datetime.fromisoformat(d.pop("since"))

        def _parse_stored_seconds_p50(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        stored_seconds_p50 = _parse_stored_seconds_p50(d.pop("stored_seconds_p50"))

        def _parse_stored_seconds_p99(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        stored_seconds_p99 = _parse_stored_seconds_p99(d.pop("stored_seconds_p99"))

        lead_stats_out = cls(
            acknowledged=acknowledged,
            acknowledged_seconds_p50=acknowledged_seconds_p50,
            acknowledged_seconds_p99=acknowledged_seconds_p99,
            backlog=backlog,
            by_source=by_source,
            leads=leads,
            oldest_undelivered_age_seconds=oldest_undelivered_age_seconds,
            oldest_undelivered_at=oldest_undelivered_at,
            since=since,
            stored_seconds_p50=stored_seconds_p50,
            stored_seconds_p99=stored_seconds_p99,
        )

        lead_stats_out.additional_properties = d
        return lead_stats_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
