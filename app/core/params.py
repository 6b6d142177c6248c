"""Query parameter types shared by the routers."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BeforeValidator

# `YYYY-MM-DDThh:mm[:ss[.fff…]]` then `Z` or an offset: the shape of an ISO 8601 date-time
# with a zone. Pydantic alone would also take `0.5` or `1700000000` (Unix times).
_ISO_8601_WITH_ZONE = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)"
)


def _iso_8601_with_zone(value: object) -> object:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_8601_WITH_ZONE.fullmatch(value):
        return value
    raise ValueError(
        "expected an ISO 8601 date-time with a zone, such as 2026-01-31T09:30:00Z or "
        "2026-01-31T09:30:00%2B01:00 (a `+` in a URL must be encoded as %2B)"
    )


# Use on the whole parameter, `Annotated[AwareDatetime | None, ISO_8601, Query(...)]`: inside
# the union it would be tried per member and report one error per member.
ISO_8601 = BeforeValidator(_iso_8601_with_zone)
