from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="StatsOut")


@_attrs_define
class StatsOut:
    """
    Attributes:
        captured_at (datetime.datetime):
        follower_count (int | None):
        following_count (int | None):
        likes_count (int | None):
        video_count (int | None):
    """

    captured_at: datetime.datetime
    follower_count: int | None
    following_count: int | None
    likes_count: int | None
    video_count: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        captured_at = self.captured_at.isoformat()

        follower_count: int | None
        follower_count = self.follower_count

        following_count: int | None
        following_count = self.following_count

        likes_count: int | None
        likes_count = self.likes_count

        video_count: int | None
        video_count = self.video_count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "captured_at": captured_at,
                "follower_count": follower_count,
                "following_count": following_count,
                "likes_count": likes_count,
                "video_count": video_count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        captured_at = datetime.datetime.fromisoformat(d.pop("captured_at"))

        def _parse_follower_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        follower_count = _parse_follower_count(d.pop("follower_count"))

        def _parse_following_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        following_count = _parse_following_count(d.pop("following_count"))

        def _parse_likes_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        likes_count = _parse_likes_count(d.pop("likes_count"))

        def _parse_video_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        video_count = _parse_video_count(d.pop("video_count"))

        stats_out = cls(
            captured_at=captured_at,
            follower_count=follower_count,
            following_count=following_count,
            likes_count=likes_count,
            video_count=video_count,
        )

        stats_out.additional_properties = d
        return stats_out

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
