from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="BackfillRequest")


@_attrs_define
class BackfillRequest:
    """
    Attributes:
        form_id (None | str | Unset): Only this form (TikTok's page_id); default every form of every advertiser
    """

    form_id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        form_id: None | str | Unset
        if isinstance(self.form_id, Unset):
            form_id = UNSET
        else:
            form_id = self.form_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if form_id is not UNSET:
            field_dict["form_id"] = form_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_form_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        form_id = _parse_form_id(d.pop("form_id", UNSET))

        backfill_request = cls(
            form_id=form_id,
        )

        return backfill_request
