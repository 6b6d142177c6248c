from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.stats_out import StatsOut


T = TypeVar("T", bound="ProfileOut")


@_attrs_define
class ProfileOut:
    """
    Attributes:
        account_id (UUID):
        avatar_large_url (None | str):
        avatar_url (None | str):
        bio_description (None | str):
        display_name (None | str):
        granted_scopes (list[str]):
        is_verified (bool | None):
        open_id (None | str):
        profile_deep_link (None | str):
        stats (None | StatsOut): Latest snapshot; null without user.info.stats
        synced_at (datetime.datetime | None): When the profile was last read from TikTok
        username (None | str):
    """

    account_id: UUID
    avatar_large_url: None | str
    avatar_url: None | str
    bio_description: None | str
    display_name: None | str
    granted_scopes: list[str]
    is_verified: bool | None
    open_id: None | str
    profile_deep_link: None | str
    stats: None | StatsOut
    synced_at: datetime.datetime | None
    username: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.stats_out import StatsOut  # noqa: PLC0415

        account_id = str(self.account_id)

        avatar_large_url: None | str
        avatar_large_url = self.avatar_large_url

        avatar_url: None | str
        avatar_url = self.avatar_url

        bio_description: None | str
        bio_description = self.bio_description

        display_name: None | str
        display_name = self.display_name

        granted_scopes = self.granted_scopes

        is_verified: bool | None
        is_verified = self.is_verified

        open_id: None | str
        open_id = self.open_id

        profile_deep_link: None | str
        profile_deep_link = self.profile_deep_link

        stats: dict[str, Any] | None
        if isinstance(self.stats, StatsOut):
            stats = self.stats.to_dict()
        else:
            stats = self.stats

        synced_at: None | str
        if isinstance(self.synced_at, datetime.datetime):
            synced_at = self.synced_at.isoformat()
        else:
            synced_at = self.synced_at

        username: None | str
        username = self.username

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account_id": account_id,
                "avatar_large_url": avatar_large_url,
                "avatar_url": avatar_url,
                "bio_description": bio_description,
                "display_name": display_name,
                "granted_scopes": granted_scopes,
                "is_verified": is_verified,
                "open_id": open_id,
                "profile_deep_link": profile_deep_link,
                "stats": stats,
                "synced_at": synced_at,
                "username": username,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.stats_out import StatsOut  # noqa: PLC0415

        d = dict(src_dict)
        account_id = UUID(d.pop("account_id"))

        def _parse_avatar_large_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        avatar_large_url = _parse_avatar_large_url(d.pop("avatar_large_url"))

        def _parse_avatar_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        avatar_url = _parse_avatar_url(d.pop("avatar_url"))

        def _parse_bio_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        bio_description = _parse_bio_description(d.pop("bio_description"))

        def _parse_display_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        display_name = _parse_display_name(d.pop("display_name"))

        granted_scopes = cast(list[str], d.pop("granted_scopes"))

        def _parse_is_verified(data: object) -> bool | None:
            if data is None:
                return data
            return cast(bool | None, data)

        is_verified = _parse_is_verified(d.pop("is_verified"))

        def _parse_open_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        open_id = _parse_open_id(d.pop("open_id"))

        def _parse_profile_deep_link(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        profile_deep_link = _parse_profile_deep_link(d.pop("profile_deep_link"))

        def _parse_stats(data: object) -> None | StatsOut:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                stats_type_0 = StatsOut.from_dict(data)

                return stats_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | StatsOut, data)

        stats = _parse_stats(d.pop("stats"))

        def _parse_synced_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                synced_at_type_0 = datetime.datetime.fromisoformat(data)

                return synced_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        synced_at = _parse_synced_at(d.pop("synced_at"))

        def _parse_username(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        username = _parse_username(d.pop("username"))

        profile_out = cls(
            account_id=account_id,
            avatar_large_url=avatar_large_url,
            avatar_url=avatar_url,
            bio_description=bio_description,
            display_name=display_name,
            granted_scopes=granted_scopes,
            is_verified=is_verified,
            open_id=open_id,
            profile_deep_link=profile_deep_link,
            stats=stats,
            synced_at=synced_at,
            username=username,
        )

        profile_out.additional_properties = d
        return profile_out

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
