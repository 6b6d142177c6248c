from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.probe_status import ProbeStatus

T = TypeVar("T", bound="LeadProbeOut")


@_attrs_define
class LeadProbeOut:
    """An end-to-end probe: a test lead made at TikTok, and how it reached us.

    Attributes:
        account_id (UUID):
        acknowledged_seconds (float | None): From the probe's start
        advertiser_id (str):
        arrived_by (None | str): webhook, or reconciliation when only the lead export held it
        created_at (datetime.datetime):
        crm_acknowledged (bool): The CRM acknowledged its `lead.created`
        deliver (bool):
        error (None | str):
        finished_at (datetime.datetime | None):
        form_id (str):
        id (UUID):
        mock_deleted (bool): The test lead was deleted at TikTok afterwards
        status (ProbeStatus):
        stored_seconds (float | None): From the probe's start to storage
        tiktok_lead_id (None | str): TikTok's id of the test lead
    """

    account_id: UUID
    acknowledged_seconds: float | None
    advertiser_id: str
    arrived_by: None | str
    created_at: datetime.datetime
    crm_acknowledged: bool
    deliver: bool
    error: None | str
    finished_at: datetime.datetime | None
    form_id: str
    id: UUID
    mock_deleted: bool
    status: ProbeStatus
    stored_seconds: float | None
    tiktok_lead_id: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account_id = str(self.account_id)

        acknowledged_seconds: float | None
        acknowledged_seconds = self.acknowledged_seconds

        advertiser_id = self.advertiser_id

        arrived_by: None | str
        arrived_by = self.arrived_by

        created_at = self.created_at.isoformat()

        crm_acknowledged = self.crm_acknowledged

        deliver = self.deliver

        error: None | str
        error = self.error

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        form_id = self.form_id

        id = str(self.id)

        mock_deleted = self.mock_deleted

        status = self.status.value

        stored_seconds: float | None
        stored_seconds = self.stored_seconds

        tiktok_lead_id: None | str
        tiktok_lead_id = self.tiktok_lead_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account_id": account_id,
                "acknowledged_seconds": acknowledged_seconds,
                "advertiser_id": advertiser_id,
                "arrived_by": arrived_by,
                "created_at": created_at,
                "crm_acknowledged": crm_acknowledged,
                "deliver": deliver,
                "error": error,
                "finished_at": finished_at,
                "form_id": form_id,
                "id": id,
                "mock_deleted": mock_deleted,
                "status": status,
                "stored_seconds": stored_seconds,
                "tiktok_lead_id": tiktok_lead_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        account_id = UUID(d.pop("account_id"))

        def _parse_acknowledged_seconds(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        acknowledged_seconds = _parse_acknowledged_seconds(d.pop("acknowledged_seconds"))

        advertiser_id = d.pop("advertiser_id")

        def _parse_arrived_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        arrived_by = _parse_arrived_by(d.pop("arrived_by"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        crm_acknowledged = d.pop("crm_acknowledged")

        deliver = d.pop("deliver")

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        form_id = d.pop("form_id")

        id = UUID(d.pop("id"))

        mock_deleted = d.pop("mock_deleted")

        status = ProbeStatus(d.pop("status"))

        def _parse_stored_seconds(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        stored_seconds = _parse_stored_seconds(d.pop("stored_seconds"))

        def _parse_tiktok_lead_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        tiktok_lead_id = _parse_tiktok_lead_id(d.pop("tiktok_lead_id"))

        lead_probe_out = cls(
            account_id=account_id,
            acknowledged_seconds=acknowledged_seconds,
            advertiser_id=advertiser_id,
            arrived_by=arrived_by,
            created_at=created_at,
            crm_acknowledged=crm_acknowledged,
            deliver=deliver,
            error=error,
            finished_at=finished_at,
            form_id=form_id,
            id=id,
            mock_deleted=mock_deleted,
            status=status,
            stored_seconds=stored_seconds,
            tiktok_lead_id=tiktok_lead_id,
        )

        lead_probe_out.additional_properties = d
        return lead_probe_out

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
