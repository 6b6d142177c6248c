from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.lead_source import LeadSource
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.lead_answer import LeadAnswer
    from ..models.lead_attribution import LeadAttribution


T = TypeVar("T", bound="LeadOut")


@_attrs_define
class LeadOut:
    """
    Attributes:
        answers (list[LeadAnswer]): Every answer as received, in form order
        attribution (LeadAttribution):
        company_id (None | str): Null until the advertiser is connected
        created_at (datetime.datetime):
        email (None | str): Trimmed and lowercased; null if not an address
        first_name (None | str):
        id (UUID):
        last_name (None | str):
        name (None | str):
        phone (None | str): E.164; null if not a valid number
        source (LeadSource):
        submitted_at (datetime.datetime):
        tiktok_lead_id (str):
        is_test (bool | Unset): A probe's test lead (`POST /accounts/{id}/leads/probe/`), made with TikTok's mock-lead
            API: not a real submission Default: False.
    """

    answers: list[LeadAnswer]
    attribution: LeadAttribution
    company_id: None | str
    created_at: datetime.datetime
    email: None | str
    first_name: None | str
    id: UUID
    last_name: None | str
    name: None | str
    phone: None | str
    source: LeadSource
    submitted_at: datetime.datetime
    tiktok_lead_id: str
    is_test: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        answers = []
        for answers_item_data in self.answers:
            answers_item = answers_item_data.to_dict()
            answers.append(answers_item)

        attribution = self.attribution.to_dict()

        company_id: None | str
        company_id = self.company_id

        created_at = self.created_at.isoformat()

        email: None | str
        email = self.email

        first_name: None | str
        first_name = self.first_name

        id = str(self.id)

        last_name: None | str
        last_name = self.last_name

        name: None | str
        name = self.name

        phone: None | str
        phone = self.phone

        source = self.source.value

        submitted_at = self.submitted_at.isoformat()

        tiktok_lead_id = self.tiktok_lead_id

        is_test = self.is_test

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "answers": answers,
                "attribution": attribution,
                "company_id": company_id,
                "created_at": created_at,
                "email": email,
                "first_name": first_name,
                "id": id,
                "last_name": last_name,
                "name": name,
                "phone": phone,
                "source": source,
                "submitted_at": submitted_at,
                "tiktok_lead_id": tiktok_lead_id,
            }
        )
        if is_test is not UNSET:
            field_dict["is_test"] = is_test

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.lead_answer import LeadAnswer  # noqa: PLC0415
        from ..models.lead_attribution import LeadAttribution  # noqa: PLC0415

        d = dict(src_dict)
        answers = []
        _answers = d.pop("answers")
        for answers_item_data in _answers:
            answers_item = LeadAnswer.from_dict(answers_item_data)

            answers.append(answers_item)

        attribution = LeadAttribution.from_dict(d.pop("attribution"))

        def _parse_company_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        company_id = _parse_company_id(d.pop("company_id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_email(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        email = _parse_email(d.pop("email"))

        def _parse_first_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        first_name = _parse_first_name(d.pop("first_name"))

        id = UUID(d.pop("id"))

        def _parse_last_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_name = _parse_last_name(d.pop("last_name"))

        def _parse_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        name = _parse_name(d.pop("name"))

        def _parse_phone(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        phone = _parse_phone(d.pop("phone"))

        source = LeadSource(d.pop("source"))

        submitted_at = datetime.datetime.fromisoformat(d.pop("submitted_at"))

        tiktok_lead_id = d.pop("tiktok_lead_id")

        is_test = d.pop("is_test", UNSET)

        lead_out = cls(
            answers=answers,
            attribution=attribution,
            company_id=company_id,
            created_at=created_at,
            email=email,
            first_name=first_name,
            id=id,
            last_name=last_name,
            name=name,
            phone=phone,
            source=source,
            submitted_at=submitted_at,
            tiktok_lead_id=tiktok_lead_id,
            is_test=is_test,
        )

        lead_out.additional_properties = d
        return lead_out

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
