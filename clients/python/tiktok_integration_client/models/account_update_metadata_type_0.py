from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="AccountUpdateMetadataType0")


@_attrs_define
class AccountUpdateMetadataType0:
    """The CRM's own data about the account: a flat object of at most 32 keys (letters, digits, `_ . : -`, up to 40
    characters); each value a string (up to 80 characters), an integer or a boolean. Replaced whole on update; null
    clears it.

    """

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        account_update_metadata_type_0 = cls()

        return account_update_metadata_type_0
