from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.backfill_status import BackfillStatus

T = TypeVar("T", bound="BackfillJobOut")


@_attrs_define
class BackfillJobOut:
    """
    Attributes:
        account_id (UUID):
        created_at (datetime.datetime):
        error (None | str): Why the job failed
        finished_at (datetime.datetime | None):
        form_id (None | str):
        forms_done (int):
        forms_total (int): Forms to export (known once the job started)
        id (UUID):
        leads_created (int): Of those, leads that were not stored yet
        leads_seen (int): Leads in the exports so far
        started_at (datetime.datetime | None):
        status (BackfillStatus):
    """

    account_id: UUID
    created_at: datetime.datetime
    error: None | str
    finished_at: datetime.datetime | None
    form_id: None | str
    forms_done: int
    forms_total: int
    id: UUID
    leads_created: int
    leads_seen: int
    started_at: datetime.datetime | None
    status: BackfillStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account_id = str(self.account_id)

        created_at = self.created_at.isoformat()

        error: None | str
        error = self.error

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        form_id: None | str
        form_id = self.form_id

        forms_done = self.forms_done

        forms_total = self.forms_total

        id = str(self.id)

        leads_created = self.leads_created

        leads_seen = self.leads_seen

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account_id": account_id,
                "created_at": created_at,
                "error": error,
                "finished_at": finished_at,
                "form_id": form_id,
                "forms_done": forms_done,
                "forms_total": forms_total,
                "id": id,
                "leads_created": leads_created,
                "leads_seen": leads_seen,
                "started_at": started_at,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        account_id = UUID(d.pop("account_id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

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

        def _parse_form_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        form_id = _parse_form_id(d.pop("form_id"))

        forms_done = d.pop("forms_done")

        forms_total = d.pop("forms_total")

        id = UUID(d.pop("id"))

        leads_created = d.pop("leads_created")

        leads_seen = d.pop("leads_seen")

        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        status = BackfillStatus(d.pop("status"))

        backfill_job_out = cls(
            account_id=account_id,
            created_at=created_at,
            error=error,
            finished_at=finished_at,
            form_id=form_id,
            forms_done=forms_done,
            forms_total=forms_total,
            id=id,
            leads_created=leads_created,
            leads_seen=leads_seen,
            started_at=started_at,
            status=status,
        )

        backfill_job_out.additional_properties = d
        return backfill_job_out

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
