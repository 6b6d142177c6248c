"""Structured JSON logs with secrets redacted.

Each record is one JSON line. Extra fields passed with `extra={...}` are included; any whose
name looks like a secret (token, code, verifier, secret, cookie, authorization, password)
is replaced by `[redacted]`, at any nesting depth.

Three more layers keep credentials out of every line, library loggers' included:
- chatty library loggers (httpx and httpcore log every request URL at INFO; the TikTok for
  Business API carries the app secret in its query string) are held at WARNING;
- every URL in a line loses its user-info and its query values (`?secret=…` → `?secret=[redacted]`);
- every configured secret (`configure_logging(secrets=…)`) is replaced wherever it appears.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

SECRET_KEY_PATTERN = re.compile(
    r"(token|secret|password|authorization|cookie|verifier|^code$|api_key|signature|ciphertext)",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

# Libraries that log request URLs, headers or SQL parameters below WARNING.
QUIET_LIBRARY_LOGGERS = (
    "httpx",
    "httpcore",
    "hpack",
    "h11",
    "h2",
    "asyncio",
    "aiosqlite",
    "asyncpg",
    "sqlalchemy",
    "multipart",
    "python_multipart",
    "watchfiles",
    "alembic.runtime.migration",  # readiness checks open a migration context every probe
)

# `scheme://user:password@host` and `?key=value&key=value` inside any text.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@\"'?#]+@")
_URL_QUERY = re.compile(r"(?P<lead>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'?#]*)\?(?P<query>[^\s\"'#]*)")
_QUERY_PAIR = re.compile(r"(?P<key>[^&=]*)=(?P<value>[^&]*)")
# Secrets shorter than this are not scrubbed by value (they would redact ordinary words).
_MIN_SECRET_LENGTH = 6


def redact(value: Any, key: str = "") -> Any:
    if key and SECRET_KEY_PATTERN.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def _redact_query(match: re.Match[str]) -> str:
    query = _QUERY_PAIR.sub(lambda pair: f"{pair['key']}={REDACTED}", match["query"])
    return f"{match['lead']}?{query}"


def scrub_urls(text: str) -> str:
    """`text` with every URL's user-info and query values redacted."""
    if "://" not in text:
        return text
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    return _URL_QUERY.sub(_redact_query, text)


class SecretScrubber:
    """Replaces known secret values, and URL credentials, in a formatted line."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted(
            {s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True
        )
        # Also their JSON-escaped forms: a line is JSON, a secret may contain `"` or `\`.
        forms = {form for s in values for form in (s, json.dumps(s)[1:-1])}
        self._pattern = (
            re.compile("|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)))
            if forms
            else None
        )

    def __call__(self, text: str) -> str:
        text = scrub_urls(text)
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        return text


class JsonFormatter(logging.Formatter):
    def __init__(self, scrubber: SecretScrubber | None = None) -> None:
        super().__init__()
        self._scrub = scrubber or SecretScrubber()

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = redact(value, key)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exception"] = record.exc_text
        return self._scrub(json.dumps(payload, default=str, ensure_ascii=False))


def configure_logging(
    level: str = "INFO", *, secrets: Iterable[str] = (), stream: IO[str] | None = None
) -> logging.Handler:
    """One JSON handler on the root logger; returns it.

    `secrets` are values no line may show (the configured secrets: see
    `Settings.secret_values`). Library loggers stay at WARNING whatever `level` is: at DEBUG
    they print request URLs, headers and SQL parameters.
    """
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter(SecretScrubber(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = name != "uvicorn.access"
    return handler
