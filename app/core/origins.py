"""Browser origins: which may call the API from a browser and receive a connect's result.

One rule serves CORS (`app.core.cors`) and the connect flow's `return_to` (`app.oauth.returns`):
an origin is allowed when it is `FRONTEND_URL`'s, one of `FRONTEND_ORIGINS`, or matches
`FRONTEND_ORIGIN_REGEX` in full. Origins are compared in the form browsers send them in the
`Origin` header: lowercase scheme and host, no default port, no path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def _serialize(parts: SplitResult) -> str | None:
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname  # lowercased, IPv6 without its brackets
    if ":" in host:
        host = f"[{host}]"
    suffix = "" if port is None or port == DEFAULT_PORTS[parts.scheme] else f":{port}"
    return f"{parts.scheme}://{host}{suffix}"


def origin_of(url: str) -> str | None:
    """The origin of an absolute http(s) URL, as a browser serializes it; None for anything
    else (another scheme, no host, credentials in the URL, a bad port)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return _serialize(parts)


def parse_origin(value: str) -> str | None:
    """`value` as an origin if it is one (`scheme://host[:port]`, at most a trailing `/`)."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return _serialize(parts)


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    origins: tuple[str, ...]
    regex: re.Pattern[str] | None = None

    @classmethod
    def of(cls, frontend_url: str, origins: list[str], regex: str | None) -> OriginPolicy:
        own = origin_of(frontend_url)
        listed = ([own] if own else []) + origins
        return cls(tuple(dict.fromkeys(listed)), re.compile(regex) if regex else None)

    def allows(self, origin: str) -> bool:
        """Whether a browser at `origin` (an `Origin` header's value) is one of ours."""
        if origin in self.origins:
            return True
        return self.regex is not None and self.regex.fullmatch(origin) is not None
