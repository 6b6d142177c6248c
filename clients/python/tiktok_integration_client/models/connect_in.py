from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.connect_mode import ConnectMode
from ..types import UNSET, Unset

T = TypeVar("T", bound="ConnectIn")


@_attrs_define
class ConnectIn:
    """
    Attributes:
        mode (ConnectMode | Unset):
        return_to (None | str | Unset): Where the browser returns, with `connected`, `account_id` and `error`: an
            http(s) URL under an allowed frontend origin (FRONTEND_URL's, FRONTEND_ORIGINS, FRONTEND_ORIGIN_REGEX; else 422
            `return_to_not_allowed`). Default: `{FRONTEND_URL}/integrations`
    """

    mode: ConnectMode | Unset = UNSET
    return_to: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        mode: str | Unset = UNSET
        if not isinstance(self.mode, Unset):
            mode = self.mode.value

        return_to: None | str | Unset
        if isinstance(self.return_to, Unset):
            return_to = UNSET
        else:
            return_to = self.return_to

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if mode is not UNSET:
            field_dict["mode"] = mode
        if return_to is not UNSET:
            field_dict["return_to"] = return_to

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _mode = d.pop("mode", UNSET)
        mode: ConnectMode | Unset
        if isinstance(_mode, Unset):
            mode = UNSET
        else:
            mode = ConnectMode(_mode)

        def _parse_return_to(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        return_to = _parse_return_to(d.pop("return_to", UNSET))

        connect_in = cls(
            mode=mode,
            return_to=return_to,
        )

        return connect_in
