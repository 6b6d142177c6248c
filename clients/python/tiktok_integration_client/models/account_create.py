from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.platform import Platform
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.account_create_metadata_type_0 import AccountCreateMetadataType0


T = TypeVar("T", bound="AccountCreate")


@_attrs_define
class AccountCreate:
    """
    Attributes:
        name (str):
        platform (Platform):
        external_ref (None | str | Unset):
        metadata (AccountCreateMetadataType0 | None | Unset):
    """

    name: str
    platform: Platform
    external_ref: None | str | Unset = UNSET
    metadata: AccountCreateMetadataType0 | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.account_create_metadata_type_0 import AccountCreateMetadataType0  # noqa: PLC0415

        name = self.name

        platform = self.platform.value

        external_ref: None | str | Unset
        if isinstance(self.external_ref, Unset):
            external_ref = UNSET
        else:
            external_ref = self.external_ref

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, AccountCreateMetadataType0):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "platform": platform,
            }
        )
        if external_ref is not UNSET:
            field_dict["external_ref"] = external_ref
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account_create_metadata_type_0 import AccountCreateMetadataType0  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        platform = Platform(d.pop("platform"))

        def _parse_external_ref(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        external_ref = _parse_external_ref(d.pop("external_ref", UNSET))

        def _parse_metadata(data: object) -> AccountCreateMetadataType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metadata_type_0 = AccountCreateMetadataType0.from_dict(data)

                return metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AccountCreateMetadataType0 | None | Unset, data)

        metadata = _parse_metadata(d.pop("metadata", UNSET))

        account_create = cls(
            name=name,
            platform=platform,
            external_ref=external_ref,
            metadata=metadata,
        )

        return account_create
