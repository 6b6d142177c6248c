from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="VideoOut")


@_attrs_define
class VideoOut:
    """
    Attributes:
        comment_count (int | None):
        cover_image_url (None | str): Signed by TikTok; valid about 6 hours
        created_at (datetime.datetime | None):
        description (None | str):
        duration (int | None): Seconds
        embed_html (None | str):
        embed_link (None | str):
        height (int | None):
        id (str): TikTok video id (int64, as a string)
        like_count (int | None):
        share_count (int | None):
        share_url (None | str):
        title (None | str):
        view_count (int | None):
        width (int | None):
    """

    comment_count: int | None
    cover_image_url: None | str
    created_at: datetime.datetime | None
    description: None | str
    duration: int | None
    embed_html: None | str
    embed_link: None | str
    height: int | None
    id: str
    like_count: int | None
    share_count: int | None
    share_url: None | str
    title: None | str
    view_count: int | None
    width: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        comment_count: int | None
        comment_count = self.comment_count

        cover_image_url: None | str
        cover_image_url = self.cover_image_url

        created_at: None | str
        if isinstance(self.created_at, datetime.datetime):
            created_at = self.created_at.isoformat()
        else:
            created_at = self.created_at

        description: None | str
        description = self.description

        duration: int | None
        duration = self.duration

        embed_html: None | str
        embed_html = self.embed_html

        embed_link: None | str
        embed_link = self.embed_link

        height: int | None
        height = self.height

        id = self.id

        like_count: int | None
        like_count = self.like_count

        share_count: int | None
        share_count = self.share_count

        share_url: None | str
        share_url = self.share_url

        title: None | str
        title = self.title

        view_count: int | None
        view_count = self.view_count

        width: int | None
        width = self.width

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "comment_count": comment_count,
                "cover_image_url": cover_image_url,
                "created_at": created_at,
                "description": description,
                "duration": duration,
                "embed_html": embed_html,
                "embed_link": embed_link,
                "height": height,
                "id": id,
                "like_count": like_count,
                "share_count": share_count,
                "share_url": share_url,
                "title": title,
                "view_count": view_count,
                "width": width,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_comment_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        comment_count = _parse_comment_count(d.pop("comment_count"))

        def _parse_cover_image_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        cover_image_url = _parse_cover_image_url(d.pop("cover_image_url"))

        def _parse_created_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                created_at_type_0 = datetime.datetime.fromisoformat(data)

                return created_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        created_at = _parse_created_at(d.pop("created_at"))

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        def _parse_duration(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        duration = _parse_duration(d.pop("duration"))

        def _parse_embed_html(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        embed_html = _parse_embed_html(d.pop("embed_html"))

        def _parse_embed_link(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        embed_link = _parse_embed_link(d.pop("embed_link"))

        def _parse_height(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        height = _parse_height(d.pop("height"))

        id = d.pop("id")

        def _parse_like_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        like_count = _parse_like_count(d.pop("like_count"))

        def _parse_share_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        share_count = _parse_share_count(d.pop("share_count"))

        def _parse_share_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        share_url = _parse_share_url(d.pop("share_url"))

        def _parse_title(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        title = _parse_title(d.pop("title"))

        def _parse_view_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        view_count = _parse_view_count(d.pop("view_count"))

        def _parse_width(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        width = _parse_width(d.pop("width"))

        video_out = cls(
            comment_count=comment_count,
            cover_image_url=cover_image_url,
            created_at=created_at,
            description=description,
            duration=duration,
            embed_html=embed_html,
            embed_link=embed_link,
            height=height,
            id=id,
            like_count=like_count,
            share_count=share_count,
            share_url=share_url,
            title=title,
            view_count=view_count,
            width=width,
        )

        video_out.additional_properties = d
        return video_out

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
