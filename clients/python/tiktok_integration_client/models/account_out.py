from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.account_status import AccountStatus
from ..models.platform import Platform

if TYPE_CHECKING:
    from ..models.account_out_metadata_type_0 import AccountOutMetadataType0


T = TypeVar("T", bound="AccountOut")


@_attrs_define
class AccountOut:
    """
    Attributes:
        access_token_expires_at (datetime.datetime | None):
        avatar_url (None | str):
        connected_at (datetime.datetime | None):
        created_at (datetime.datetime):
        created_by (None | str):
        disconnected_at (datetime.datetime | None):
        display_name (None | str):
        external_id (None | str): TikTok open_id once connected
        external_ref (None | str): The CRM's own id for the brand or team
        granted_scopes (list[str]):
        id (UUID):
        last_error_code (None | str):
        metadata (AccountOutMetadataType0 | None): The CRM's own data about the account
        name (str):
        platform (Platform):
        refresh_token_expires_at (datetime.datetime | None):
        status (AccountStatus):
        updated_at (datetime.datetime):
        username (None | str):
    """

    access_token_expires_at: datetime.datetime | None
    avatar_url: None | str
    connected_at: datetime.datetime | None
    created_at: datetime.datetime
    created_by: None | str
    disconnected_at: datetime.datetime | None
    display_name: None | str
    external_id: None | str
    external_ref: None | str
    granted_scopes: list[str]
    id: UUID
    last_error_code: None | str
    metadata: AccountOutMetadataType0 | None
    name: str
    platform: Platform
    refresh_token_expires_at: datetime.datetime | None
    status: AccountStatus
    updated_at: datetime.datetime
    username: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.account_out_metadata_type_0 import AccountOutMetadataType0  # noqa: PLC0415

        access_token_expires_at: None | str
        if isinstance(self.access_token_expires_at, datetime.datetime):
            access_token_expires_at = self.access_token_expires_at.isoformat()
        else:
            access_token_expires_at = self.access_token_expires_at

        avatar_url: None | str
        avatar_url = self.avatar_url

        connected_at: None | str
        if isinstance(self.connected_at, datetime.datetime):
            connected_at = self.connected_at.isoformat()
        else:
            connected_at = self.connected_at

        created_at = self.created_at.isoformat()

        created_by: None | str
        created_by = self.created_by

        disconnected_at: None | str
        if isinstance(self.disconnected_at, datetime.datetime):
            disconnected_at = self.disconnected_at.isoformat()
        else:
            disconnected_at = self.disconnected_at

        display_name: None | str
        display_name = self.display_name

        external_id: None | str
        external_id = self.external_id

        external_ref: None | str
        external_ref = self.external_ref

        granted_scopes = self.granted_scopes

        id = str(self.id)

        last_error_code: None | str
        last_error_code = self.last_error_code

        metadata: dict[str, Any] | None
        if isinstance(self.metadata, AccountOutMetadataType0):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        name = self.name

        platform = self.platform.value

        refresh_token_expires_at: None | str
        if isinstance(self.refresh_token_expires_at, datetime.datetime):
            refresh_token_expires_at = self.refresh_token_expires_at.isoformat()
        else:
            refresh_token_expires_at = self.refresh_token_expires_at

        status = self.status.value

        updated_at = self.updated_at.isoformat()

        username: None | str
        username = self.username

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "access_token_expires_at": access_token_expires_at,
                "avatar_url": avatar_url,
                "connected_at": connected_at,
                "created_at": created_at,
                "created_by": created_by,
                "disconnected_at": disconnected_at,
                "display_name": display_name,
                "external_id": external_id,
                "external_ref": external_ref,
                "granted_scopes": granted_scopes,
                "id": id,
                "last_error_code": last_error_code,
                "metadata": metadata,
                "name": name,
                "platform": platform,
                "refresh_token_expires_at": refresh_token_expires_at,
                "status": status,
                "updated_at": updated_at,
                "username": username,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account_out_metadata_type_0 import AccountOutMetadataType0  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_access_token_expires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                access_token_expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return access_token_expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        access_token_expires_at = _parse_access_token_expires_at(d.pop("access_token_expires_at"))

        def _parse_avatar_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        avatar_url = _parse_avatar_url(d.pop("avatar_url"))

        def _parse_connected_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                connected_at_type_0 = datetime.datetime.fromisoformat(data)

                return connected_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        connected_at = _parse_connected_at(d.pop("connected_at"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_created_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        created_by = _parse_created_by(d.pop("created_by"))

        def _parse_disconnected_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                disconnected_at_type_0 = datetime.datetime.fromisoformat(data)

                return disconnected_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        disconnected_at = _parse_disconnected_at(d.pop("disconnected_at"))

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

        def _parse_external_ref(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        external_ref = _parse_external_ref(d.pop("external_ref"))

        granted_scopes = cast(list[str], d.pop("granted_scopes"))

        id = UUID(d.pop("id"))

        def _parse_last_error_code(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_error_code = _parse_last_error_code(d.pop("last_error_code"))

        def _parse_metadata(data: object) -> AccountOutMetadataType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metadata_type_0 = AccountOutMetadataType0.from_dict(data)

                return metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AccountOutMetadataType0 | None, data)

        metadata = _parse_metadata(d.pop("metadata"))

        name = d.pop("name")

        platform = Platform(d.pop("platform"))

        def _parse_refresh_token_expires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                refresh_token_expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return refresh_token_expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        refresh_token_expires_at = _parse_refresh_token_expires_at(d.pop("refresh_token_expires_at"))

        status = AccountStatus(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_username(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        username = _parse_username(d.pop("username"))

        account_out = cls(
            access_token_expires_at=access_token_expires_at,
            avatar_url=avatar_url,
            connected_at=connected_at,
            created_at=created_at,
            created_by=created_by,
            disconnected_at=disconnected_at,
            display_name=display_name,
            external_id=external_id,
            external_ref=external_ref,
            granted_scopes=granted_scopes,
            id=id,
            last_error_code=last_error_code,
            metadata=metadata,
            name=name,
            platform=platform,
            refresh_token_expires_at=refresh_token_expires_at,
            status=status,
            updated_at=updated_at,
            username=username,
        )

        account_out.additional_properties = d
        return account_out

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
