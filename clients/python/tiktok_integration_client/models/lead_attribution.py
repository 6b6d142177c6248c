from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="LeadAttribution")


@_attrs_define
class LeadAttribution:
    """
    Attributes:
        ad_id (None | str):
        ad_name (None | str):
        adgroup_id (None | str):
        adgroup_name (None | str):
        advertiser_id (None | str):
        advertiser_name (None | str):
        campaign_id (None | str):
        campaign_name (None | str):
        form_id (None | str): TikTok's page_id
        form_name (None | str):
        lead_source (None | str):
    """

    ad_id: None | str
    ad_name: None | str
    adgroup_id: None | str
    adgroup_name: None | str
    advertiser_id: None | str
    advertiser_name: None | str
    campaign_id: None | str
    campaign_name: None | str
    form_id: None | str
    form_name: None | str
    lead_source: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ad_id: None | str
        ad_id = self.ad_id

        ad_name: None | str
        ad_name = self.ad_name

        adgroup_id: None | str
        adgroup_id = self.adgroup_id

        adgroup_name: None | str
        adgroup_name = self.adgroup_name

        advertiser_id: None | str
        advertiser_id = self.advertiser_id

        advertiser_name: None | str
        advertiser_name = self.advertiser_name

        campaign_id: None | str
        campaign_id = self.campaign_id

        campaign_name: None | str
        campaign_name = self.campaign_name

        form_id: None | str
        form_id = self.form_id

        form_name: None | str
        form_name = self.form_name

        lead_source: None | str
        lead_source = self.lead_source

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ad_id": ad_id,
                "ad_name": ad_name,
                "adgroup_id": adgroup_id,
                "adgroup_name": adgroup_name,
                "advertiser_id": advertiser_id,
                "advertiser_name": advertiser_name,
                "campaign_id": campaign_id,
                "campaign_name": campaign_name,
                "form_id": form_id,
                "form_name": form_name,
                "lead_source": lead_source,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_ad_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ad_id = _parse_ad_id(d.pop("ad_id"))

        def _parse_ad_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ad_name = _parse_ad_name(d.pop("ad_name"))

        def _parse_adgroup_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        adgroup_id = _parse_adgroup_id(d.pop("adgroup_id"))

        def _parse_adgroup_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        adgroup_name = _parse_adgroup_name(d.pop("adgroup_name"))

        def _parse_advertiser_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        advertiser_id = _parse_advertiser_id(d.pop("advertiser_id"))

        def _parse_advertiser_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        advertiser_name = _parse_advertiser_name(d.pop("advertiser_name"))

        def _parse_campaign_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        campaign_id = _parse_campaign_id(d.pop("campaign_id"))

        def _parse_campaign_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        campaign_name = _parse_campaign_name(d.pop("campaign_name"))

        def _parse_form_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        form_id = _parse_form_id(d.pop("form_id"))

        def _parse_form_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        form_name = _parse_form_name(d.pop("form_name"))

        def _parse_lead_source(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        lead_source = _parse_lead_source(d.pop("lead_source"))

        lead_attribution = cls(
            ad_id=ad_id,
            ad_name=ad_name,
            adgroup_id=adgroup_id,
            adgroup_name=adgroup_name,
            advertiser_id=advertiser_id,
            advertiser_name=advertiser_name,
            campaign_id=campaign_id,
            campaign_name=campaign_name,
            form_id=form_id,
            form_name=form_name,
            lead_source=lead_source,
        )

        lead_attribution.additional_properties = d
        return lead_attribution

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
