from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.log_entry_out_data import LogEntryOutData


T = TypeVar("T", bound="LogEntryOut")


@_attrs_define
class LogEntryOut:
    """
    Attributes:
        account_id (None | UUID):
        actor (None | str):
        created_at (datetime.datetime):
        data (LogEntryOutData):
        event (str):
        id (UUID):
        level (str):
        message (str):
    """

    account_id: None | UUID
    actor: None | str
    created_at: datetime.datetime
    data: LogEntryOutData
    event: str
    id: UUID
    level: str
    message: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account_id: None | str
        if isinstance(self.account_id, UUID):
            account_id = str(self.account_id)
        else:
            account_id = self.account_id

        actor: None | str
        actor = self.actor

        created_at = self.created_at.isoformat()

        data = self.data.to_dict()

        event = self.event

        id = str(self.id)

        level = self.level

        message = self.message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account_id": account_id,
                "actor": actor,
                "created_at": created_at,
                "data": data,
                "event": event,
                "id": id,
                "level": level,
                "message": message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.log_entry_out_data import LogEntryOutData  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_account_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                account_id_type_0 = UUID(data)

                return account_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        account_id = _parse_account_id(d.pop("account_id"))

        def _parse_actor(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        actor = _parse_actor(d.pop("actor"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        data = LogEntryOutData.from_dict(d.pop("data"))

        event = d.pop("event")

        id = UUID(d.pop("id"))

        level = d.pop("level")

        message = d.pop("message")

        log_entry_out = cls(
            account_id=account_id,
            actor=actor,
            created_at=created_at,
            data=data,
            event=event,
            id=id,
            level=level,
            message=message,
        )

        log_entry_out.additional_properties = d
        return log_entry_out

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
