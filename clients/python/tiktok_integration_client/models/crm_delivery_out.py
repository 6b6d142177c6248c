from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.delivery_status import DeliveryStatus

T = TypeVar("T", bound="CrmDeliveryOut")


@_attrs_define
class CrmDeliveryOut:
    """
    Attributes:
        attempts (int):
        created_at (datetime.datetime):
        delivered_at (datetime.datetime | None):
        event_type (str):
        first_attempt_at (datetime.datetime | None):
        id (UUID): Also the `webhook-id` header of every attempt
        last_error (None | str):
        last_status_code (int | None): The CRM's last HTTP status
        lead_id (UUID):
        next_attempt_at (datetime.datetime):
        status (DeliveryStatus):
    """

    attempts: int
    created_at: datetime.datetime
    delivered_at: datetime.datetime | None
    event_type: str
    first_attempt_at: datetime.datetime | None
    id: UUID
    last_error: None | str
    last_status_code: int | None
    lead_id: UUID
    next_attempt_at: datetime.datetime
    status: DeliveryStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        created_at = self.created_at.isoformat()

        delivered_at: None | str
        if isinstance(self.delivered_at, datetime.datetime):
            delivered_at = self.delivered_at.isoformat()
        else:
            delivered_at = self.delivered_at

        event_type = self.event_type

        first_attempt_at: None | str
        if isinstance(self.first_attempt_at, datetime.datetime):
            first_attempt_at = self.first_attempt_at.isoformat()
        else:
            first_attempt_at = self.first_attempt_at

        id = str(self.id)

        last_error: None | str
        last_error = self.last_error

        last_status_code: int | None
        last_status_code = self.last_status_code

        lead_id = str(self.lead_id)

        next_attempt_at = self.next_attempt_at.isoformat()

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "created_at": created_at,
                "delivered_at": delivered_at,
                "event_type": event_type,
                "first_attempt_at": first_attempt_at,
                "id": id,
                "last_error": last_error,
                "last_status_code": last_status_code,
                "lead_id": lead_id,
                "next_attempt_at": next_attempt_at,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempts = d.pop("attempts")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_delivered_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                delivered_at_type_0 = datetime.datetime.fromisoformat(data)

                return delivered_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        delivered_at = _parse_delivered_at(d.pop("delivered_at"))

        event_type = d.pop("event_type")

        def _parse_first_attempt_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                first_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return first_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        first_attempt_at = _parse_first_attempt_at(d.pop("first_attempt_at"))

        id = UUID(d.pop("id"))

        def _parse_last_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_error = _parse_last_error(d.pop("last_error"))

        def _parse_last_status_code(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_status_code = _parse_last_status_code(d.pop("last_status_code"))

        lead_id = UUID(d.pop("lead_id"))

        next_attempt_at = datetime.datetime.fromisoformat(d.pop("next_attempt_at"))

        status = DeliveryStatus(d.pop("status"))

        crm_delivery_out = cls(
            attempts=attempts,
            created_at=created_at,
            delivered_at=delivered_at,
            event_type=event_type,
            first_attempt_at=first_attempt_at,
            id=id,
            last_error=last_error,
            last_status_code=last_status_code,
            lead_id=lead_id,
            next_attempt_at=next_attempt_at,
            status=status,
        )

        crm_delivery_out.additional_properties = d
        return crm_delivery_out

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
