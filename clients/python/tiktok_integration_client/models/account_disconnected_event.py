from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.account_disconnected_data import AccountDisconnectedData


T = TypeVar("T", bound="AccountDisconnectedEvent")


@_attrs_define
class AccountDisconnectedEvent:
    """The account's tokens are gone: disconnected by the user, removed at TikTok, or deleted.

    Attributes:
        data (AccountDisconnectedData):
        timestamp (datetime.datetime): When the event happened (UTC)
        type_ (Literal['account.disconnected']): The event type
    """

    data: AccountDisconnectedData
    timestamp: datetime.datetime
    type_: Literal["account.disconnected"]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = self.data.to_dict()

        timestamp = self.timestamp.isoformat()

        type_ = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data": data,
                "timestamp": timestamp,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account_disconnected_data import AccountDisconnectedData  # noqa: PLC0415

        d = dict(src_dict)
        data = AccountDisconnectedData.from_dict(d.pop("data"))

        timestamp = datetime.datetime.fromisoformat(d.pop("timestamp"))

        type_ = cast(Literal["account.disconnected"], d.pop("type"))
        if type_ != "account.disconnected":
            raise ValueError(f"type must match const 'account.disconnected', got '{type_}'")

        account_disconnected_event = cls(
            data=data,
            timestamp=timestamp,
            type_=type_,
        )

        account_disconnected_event.additional_properties = d
        return account_disconnected_event

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
