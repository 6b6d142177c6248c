from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.video_out import VideoOut


T = TypeVar("T", bound="VideoPageOut")


@_attrs_define
class VideoPageOut:
    """
    Attributes:
        cursor (int | None): Pass back as `cursor` for the next page
        has_more (bool):
        items (list[VideoOut]):
    """

    cursor: int | None
    has_more: bool
    items: list[VideoOut]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cursor: int | None
        cursor = self.cursor

        has_more = self.has_more

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cursor": cursor,
                "has_more": has_more,
                "items": items,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.video_out import VideoOut  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_cursor(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        cursor = _parse_cursor(d.pop("cursor"))

        has_more = d.pop("has_more")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = VideoOut.from_dict(items_item_data)

            items.append(items_item)

        video_page_out = cls(
            cursor=cursor,
            has_more=has_more,
            items=items,
        )

        video_page_out.additional_properties = d
        return video_page_out

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
