from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.reconciliation_status import ReconciliationStatus

if TYPE_CHECKING:
    from ..models.reconciliation_error import ReconciliationError


T = TypeVar("T", bound="ReconciliationOut")


@_attrs_define
class ReconciliationOut:
    """One run of the lead reconciliation of an advertiser of the account.

    Attributes:
        account_id (UUID):
        advertiser_id (str):
        created_at (datetime.datetime):
        errors (list[ReconciliationError]): Exports (or the run) that failed
        finished_at (datetime.datetime | None):
        forms_checked (int): Forms whose every region was compared
        gap_lead_ids (list[str]): TikTok's ids of the missing leads (first 100)
        gaps_filled (int): Of those, leads this run stored (and announced)
        gaps_found (int): Of those, leads that were not stored: a lost webhook each
        id (UUID):
        leads_seen (int): Leads in TikTok's exports
        regions_checked (int): Exports compared: (form, region) pairs
        status (ReconciliationStatus):
    """

    account_id: UUID
    advertiser_id: str
    created_at: datetime.datetime
    errors: list[ReconciliationError]
    finished_at: datetime.datetime | None
    forms_checked: int
    gap_lead_ids: list[str]
    gaps_filled: int
    gaps_found: int
    id: UUID
    leads_seen: int
    regions_checked: int
    status: ReconciliationStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account_id = str(self.account_id)

        advertiser_id = self.advertiser_id

        created_at = self.created_at.isoformat()

        errors = []
        for errors_item_data in self.errors:
            errors_item = errors_item_data.to_dict()
            errors.append(errors_item)

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        forms_checked = self.forms_checked

        gap_lead_ids = self.gap_lead_ids

        gaps_filled = self.gaps_filled

        gaps_found = self.gaps_found

        id = str(self.id)

        leads_seen = self.leads_seen

        regions_checked = self.regions_checked

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account_id": account_id,
                "advertiser_id": advertiser_id,
                "created_at": created_at,
                "errors": errors,
                "finished_at": finished_at,
                "forms_checked": forms_checked,
                "gap_lead_ids": gap_lead_ids,
                "gaps_filled": gaps_filled,
                "gaps_found": gaps_found,
                "id": id,
                "leads_seen": leads_seen,
                "regions_checked": regions_checked,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.reconciliation_error import ReconciliationError  # noqa: PLC0415

        d = dict(src_dict)
        account_id = UUID(d.pop("account_id"))

        advertiser_id = d.pop("advertiser_id")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        errors = []
        _errors = d.pop("errors")
        for errors_item_data in _errors:
            errors_item = ReconciliationError.from_dict(errors_item_data)

            errors.append(errors_item)

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        forms_checked = d.pop("forms_checked")

        gap_lead_ids = cast(list[str], d.pop("gap_lead_ids"))

        gaps_filled = d.pop("gaps_filled")

        gaps_found = d.pop("gaps_found")

        id = UUID(d.pop("id"))

        leads_seen = d.pop("leads_seen")

        regions_checked = d.pop("regions_checked")

        status = ReconciliationStatus(d.pop("status"))

        reconciliation_out = cls(
            account_id=account_id,
            advertiser_id=advertiser_id,
            created_at=created_at,
            errors=errors,
            finished_at=finished_at,
            forms_checked=forms_checked,
            gap_lead_ids=gap_lead_ids,
            gaps_filled=gaps_filled,
            gaps_found=gaps_found,
            id=id,
            leads_seen=leads_seen,
            regions_checked=regions_checked,
            status=status,
        )

        reconciliation_out.additional_properties = d
        return reconciliation_out

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
