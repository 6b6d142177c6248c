from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.account_update_metadata_type_0 import AccountUpdateMetadataType0


T = TypeVar("T", bound="AccountUpdate")


@_attrs_define
class AccountUpdate:
    """A PATCH: the fields sent change, the others stay. `name` cannot be cleared;
    `metadata` and `external_ref` are cleared by `null`.

        Attributes:
            external_ref (None | str | Unset):
            metadata (AccountUpdateMetadataType0 | None | Unset):
            name (str | Unset):
    """

    external_ref: None | str | Unset = UNSET
    metadata: AccountUpdateMetadataType0 | None | Unset = UNSET
    name: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.account_update_metadata_type_0 import AccountUpdateMetadataType0  # noqa: PLC0415

        external_ref: None | str | Unset
        if isinstance(self.external_ref, Unset):
            external_ref = UNSET
        else:
            external_ref = self.external_ref

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, AccountUpdateMetadataType0):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        name = self.name

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if external_ref is not UNSET:
            field_dict["external_ref"] = external_ref
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account_update_metadata_type_0 import AccountUpdateMetadataType0  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_external_ref(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        external_ref = _parse_external_ref(d.pop("external_ref", UNSET))

        def _parse_metadata(data: object) -> AccountUpdateMetadataType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metadata_type_0 = AccountUpdateMetadataType0.from_dict(data)

                return metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AccountUpdateMetadataType0 | None | Unset, data)

        metadata = _parse_metadata(d.pop("metadata", UNSET))

        name = d.pop("name", UNSET)

        account_update = cls(
            external_ref=external_ref,
            metadata=metadata,
            name=name,
        )

        return account_update
