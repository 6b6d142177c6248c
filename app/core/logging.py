"""Structured JSON logs with secrets redacted.

Each record is one JSON line. Extra fields passed with `extra={...}` are included; any whose
name looks like a secret (token, code, verifier, secret, cookie, authorization, password)
is replaced by `[redacted]`, at any nesting depth.

Three more layers keep credentials out of every line, library loggers' included:
- chatty library loggers (httpx and httpcore log every request URL at INFO; the TikTok for
  Business API carries the app secret in its query string) are held at WARNING;
- every URL in a line loses its user-info and its query values (`?secret=…` → `?secret=[redacted]`);
- every configured secret (`configure_logging(secrets=…)`) is replaced wherever it appears.

Every line logged while a request runs carries its `request_id`, whoever logs it (our code, a
TikTok call, a library, a task the request started): the request middleware binds the id to
the context (`bind_request_id`) and the formatter reads it. Uvicorn's and Alembic's loggers
go through the same root handler, so their lines are this JSON too (uvicorn's ANSI
`color_message` extra is dropped).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import IO, Any

SECRET_KEY_PATTERN = re.compile(
    r"(token|secret|password|authorization|cookie|verifier|^code$|api_key|signature|ciphertext)",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Not written either: uvicorn's copy of its message with ANSI colour codes.
_SKIPPED_ATTRS = _STANDARD_ATTRS | {"color_message"}
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

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
    "alembic.runtime.plugins",  # a line per plugin whenever migration scripts are read
)

# `scheme://user:password@host` and `?key=value&key=value` inside any text.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@\"'?#]+@")
_URL_QUERY = re.compile(r"(?P<lead>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'?#]*)\?(?P<query>[^\s\"'#]*)")
_QUERY_PAIR = re.compile(r"(?P<key>[^&=]*)=(?P<value>[^&]*)")
# Secrets shorter than this are not scrubbed by value (they would redact ordinary words).
_MIN_SECRET_LENGTH = 6


def bind_request_id(request_id: str | None) -> Token[str | None]:
    """Lines logged from this context on carry `request_id`; undo with `unbind_request_id`."""
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


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
        request_id = _request_id.get()
        if request_id is not None:
            payload["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _SKIPPED_ATTRS and not key.startswith("_"):
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
