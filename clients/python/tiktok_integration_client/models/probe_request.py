from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProbeRequest")


@_attrs_define
class ProbeRequest:
    """
    Attributes:
        form_id (str): The form (TikTok's page_id) to submit a test lead on
        deliver (bool | Unset): Announce the test lead to the CRM (`lead.created`) and wait for its acknowledgement; by
            default a test lead is stored, marked, and not announced Default: False.
    """

    form_id: str
    deliver: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        form_id = self.form_id

        deliver = self.deliver

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "form_id": form_id,
            }
        )
        if deliver is not UNSET:
            field_dict["deliver"] = deliver

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        form_id = d.pop("form_id")

        deliver = d.pop("deliver", UNSET)

        probe_request = cls(
            form_id=form_id,
            deliver=deliver,
        )

        return probe_request
