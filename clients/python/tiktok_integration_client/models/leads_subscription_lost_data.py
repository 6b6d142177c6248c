from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="LeadsSubscriptionLostData")


@_attrs_define
class LeadsSubscriptionLostData:
    """
    Attributes:
        account_id (UUID):
        advertiser_id (str):
        reason (str): The error that stopped the subscription
    """

    account_id: UUID
    advertiser_id: str
    reason: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account_id = str(self.account_id)

        advertiser_id = self.advertiser_id

        reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account_id": account_id,
                "advertiser_id": advertiser_id,
                "reason": reason,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        account_id = UUID(d.pop("account_id"))

        advertiser_id = d.pop("advertiser_id")

        reason = d.pop("reason")

        leads_subscription_lost_data = cls(
            account_id=account_id,
            advertiser_id=advertiser_id,
            reason=reason,
        )

        leads_subscription_lost_data.additional_properties = d
        return leads_subscription_lost_data

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
