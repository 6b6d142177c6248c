from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.account_connected_data_platform import AccountConnectedDataPlatform
from ..models.account_connected_data_status import AccountConnectedDataStatus

T = TypeVar("T", bound="AccountConnectedData")


@_attrs_define
class AccountConnectedData:
    """
    Attributes:
        account_id (UUID):
        display_name (None | str):
        external_id (None | str): TikTok's id of the account (open_id, or core user)
        platform (AccountConnectedDataPlatform): `tiktok` (Login Kit) or `tiktok_ads` (TikTok for Business)
        scopes (list[str]): The scopes the user granted
        status (AccountConnectedDataStatus):
    """

    account_id: UUID
    display_name: None | str
    external_id: None | str
    platform: AccountConnectedDataPlatform
    scopes: list[str]
    status: AccountConnectedDataStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account_id = str(self.account_id)

        display_name: None | str
        display_name = self.display_name

        external_id: None | str
        external_id = self.external_id

        platform = self.platform.value

        scopes = self.scopes

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account_id": account_id,
                "display_name": display_name,
                "external_id": external_id,
                "platform": platform,
                "scopes": scopes,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        account_id = UUID(d.pop("account_id"))

        def _parse_display_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        display_name = _parse_display_name(d.pop("display_name"))

        def _parse_external_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        external_id = _parse_external_id(d.pop("external_id"))

        platform = AccountConnectedDataPlatform(d.pop("platform"))

        scopes = cast(list[str], d.pop("scopes"))

        status = AccountConnectedDataStatus(d.pop("status"))

        account_connected_data = cls(
            account_id=account_id,
            display_name=display_name,
            external_id=external_id,
            platform=platform,
            scopes=scopes,
            status=status,
        )

        account_connected_data.additional_properties = d
        return account_connected_data

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
