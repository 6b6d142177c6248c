from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AdvertiserOut")


@_attrs_define
class AdvertiserOut:
    """
    Attributes:
        advertiser_id (str):
        advertiser_name (None | str):
        subscribed_at (datetime.datetime | None):
        subscription_id (None | str): TikTok's lead webhook subscription; null until (re)subscribed
    """

    advertiser_id: str
    advertiser_name: None | str
    subscribed_at: datetime.datetime | None
    subscription_id: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        advertiser_id = self.advertiser_id

        advertiser_name: None | str
        advertiser_name = self.advertiser_name

        subscribed_at: None | str
        if isinstance(self.subscribed_at, datetime.datetime):
            subscribed_at = self.subscribed_at.isoformat()
        else:
            subscribed_at = self.subscribed_at

        subscription_id: None | str
        subscription_id = self.subscription_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "advertiser_id": advertiser_id,
                "advertiser_name": advertiser_name,
                "subscribed_at": subscribed_at,
                "subscription_id": subscription_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        advertiser_id = d.pop("advertiser_id")

        def _parse_advertiser_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        advertiser_name = _parse_advertiser_name(d.pop("advertiser_name"))

        def _parse_subscribed_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                subscribed_at_type_0 = datetime.datetime.fromisoformat(data)

                return subscribed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        subscribed_at = _parse_subscribed_at(d.pop("subscribed_at"))

        def _parse_subscription_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        subscription_id = _parse_subscription_id(d.pop("subscription_id"))

        advertiser_out = cls(
            advertiser_id=advertiser_id,
            advertiser_name=advertiser_name,
            subscribed_at=subscribed_at,
            subscription_id=subscription_id,
        )

        advertiser_out.additional_properties = d
        return advertiser_out

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
