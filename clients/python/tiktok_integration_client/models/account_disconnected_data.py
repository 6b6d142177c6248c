from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.account_disconnected_data_platform import AccountDisconnectedDataPlatform
from ..models.account_disconnected_data_reason import AccountDisconnectedDataReason
from ..models.account_disconnected_data_status import AccountDisconnectedDataStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="AccountDisconnectedData")


@_attrs_define
class AccountDisconnectedData:
    """
    Attributes:
        account_id (UUID):
        display_name (None | str):
        external_id (None | str): TikTok's id of the account (open_id, or core user)
        platform (AccountDisconnectedDataPlatform): `tiktok` (Login Kit) or `tiktok_ads` (TikTok for Business)
        reason (AccountDisconnectedDataReason): `user`: disconnected through the API; `tiktok_revoked`: the user removed
            the app at TikTok; `deleted`: the account is being deleted (`account.deleted` follows)
        status (AccountDisconnectedDataStatus):
        tiktok_reason (None | str | Unset): With `tiktok_revoked`: TikTok's reason code, in words
    """

    account_id: UUID
    display_name: None | str
    external_id: None | str
    platform: AccountDisconnectedDataPlatform
    reason: AccountDisconnectedDataReason
    status: AccountDisconnectedDataStatus
    tiktok_reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account_id = str(self.account_id)

        display_name: None | str
        display_name = self.display_name

        external_id: None | str
        external_id = self.external_id

        platform = self.platform.value

        reason = self.reason.value

        status = self.status.value

        tiktok_reason: None | str | Unset
        if isinstance(self.tiktok_reason, Unset):
            tiktok_reason = UNSET
        else:
            tiktok_reason = self.tiktok_reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account_id": account_id,
                "display_name": display_name,
                "external_id": external_id,
                "platform": platform,
                "reason": reason,
                "status": status,
            }
        )
        if tiktok_reason is not UNSET:
            field_dict["tiktok_reason"] = tiktok_reason

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

        platform = AccountDisconnectedDataPlatform(d.pop("platform"))

        reason = AccountDisconnectedDataReason(d.pop("reason"))

        status = AccountDisconnectedDataStatus(d.pop("status"))

        def _parse_tiktok_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tiktok_reason = _parse_tiktok_reason(d.pop("tiktok_reason", UNSET))

        account_disconnected_data = cls(
            account_id=account_id,
            display_name=display_name,
            external_id=external_id,
            platform=platform,
            reason=reason,
            status=status,
            tiktok_reason=tiktok_reason,
        )

        account_disconnected_data.additional_properties = d
        return account_disconnected_data

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
