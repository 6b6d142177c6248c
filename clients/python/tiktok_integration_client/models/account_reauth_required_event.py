from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.account_reauth_required_data import AccountReauthRequiredData


T = TypeVar("T", bound="AccountReauthRequiredEvent")


@_attrs_define
class AccountReauthRequiredEvent:
    """TikTok refused the account's tokens (or they cannot be read): the user must reconnect it.

    Attributes:
        data (AccountReauthRequiredData):
        timestamp (datetime.datetime): When the event happened (UTC)
        type_ (Literal['account.reauth_required']): The event type
    """

    data: AccountReauthRequiredData
    timestamp: datetime.datetime
    type_: Literal["account.reauth_required"]
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
        from ..models.account_reauth_required_data import AccountReauthRequiredData  # noqa: PLC0415

        d = dict(src_dict)
        data = AccountReauthRequiredData.from_dict(d.pop("data"))

        timestamp = datetime.datetime.fromisoformat(d.pop("timestamp"))

        type_ = cast(Literal["account.reauth_required"], d.pop("type"))
        if type_ != "account.reauth_required":
            raise ValueError(f"type must match const 'account.reauth_required', got '{type_}'")

        account_reauth_required_event = cls(
            data=data,
            timestamp=timestamp,
            type_=type_,
        )

        account_reauth_required_event.additional_properties = d
        return account_reauth_required_event

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
