from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.leads_subscription_lost_data import LeadsSubscriptionLostData


T = TypeVar("T", bound="LeadsSubscriptionLostEvent")


@_attrs_define
class LeadsSubscriptionLostEvent:
    """An advertiser's lead webhooks stopped and cannot be re-subscribed until the account is reconnected.

    Attributes:
        data (LeadsSubscriptionLostData):
        timestamp (datetime.datetime): When the event happened (UTC)
        type_ (Literal['leads.subscription_lost']): The event type
    """

    data: LeadsSubscriptionLostData
    timestamp: datetime.datetime
    type_: Literal["leads.subscription_lost"]
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
        from ..models.leads_subscription_lost_data import LeadsSubscriptionLostData  # noqa: PLC0415

        d = dict(src_dict)
        data = LeadsSubscriptionLostData.from_dict(d.pop("data"))

        timestamp = datetime.datetime.fromisoformat(d.pop("timestamp"))

        type_ = cast(Literal["leads.subscription_lost"], d.pop("type"))
        if type_ != "leads.subscription_lost":
            raise ValueError(f"type must match const 'leads.subscription_lost', got '{type_}'")

        leads_subscription_lost_event = cls(
            data=data,
            timestamp=timestamp,
            type_=type_,
        )

        leads_subscription_lost_event.additional_properties = d
        return leads_subscription_lost_event

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
