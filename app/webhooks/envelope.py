"""TikTok's webhook envelope: parsing it, what makes one unusable, and its dedupe key.

TikTok sends no event id and delivers at least once, so an event is identified by what it
says: the SHA-256 of its canonical form (client_key, event, create_time, user_openid and the
decoded content). A retry serialized differently (key order, spacing) is still a duplicate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.webhooks.signature import ClientKeyMismatch

MAX_EVENT_LENGTH = 128
MAX_ID_LENGTH = 255
# Real contents are flat; deep nesting would only strain the log writer and JSON columns.
MAX_DEPTH = 32
# 9999-12-31T23:59:59Z: the last second a datetime (and every integer column) can hold.
MAX_CREATE_TIME = 253_402_300_799


class MalformedEvent(ValueError):
    """A validly signed body we cannot use: stored as rejected, answered 200 (no retries)."""


@dataclass(frozen=True, slots=True)
class TikTokEvent:
    client_key: str
    event: str
    create_time: int | None
    user_openid: str | None
    content: dict[str, Any]

    @property
    def dedupe_key(self) -> str:
        canonical = json.dumps(
            {
                "client_key": self.client_key,
                "event": self.event,
                "create_time": self.create_time,
                "user_openid": self.user_openid,
                "content": self.content,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(b"event:" + canonical.encode()).hexdigest()


def raw_dedupe_key(body: bytes) -> str:
    """For a body that is not a usable event: identical bytes are the same delivery."""
    return hashlib.sha256(b"raw:" + body).hexdigest()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def _string(document: dict[str, Any], key: str, max_length: int) -> str | None:
    value = document.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise MalformedEvent(f"{key} is not a string of at most {max_length} characters")
    return value


def _create_time(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 16:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CREATE_TIME:
        raise MalformedEvent("create_time is not a Unix timestamp")
    return value


def _content(value: Any) -> dict[str, Any]:
    # TikTok sends content as a JSON document serialized into a string.
    if value is None or value == "":
        return {}
    try:
        content = _loads(value) if isinstance(value, str) else None
    except (ValueError, RecursionError):
        content = None
    if not isinstance(content, dict):
        raise MalformedEvent("content is not a JSON object serialized as a string")
    return content


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > MAX_DEPTH:
        raise MalformedEvent("content is nested too deeply")
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def _ensure_storable(event: TikTokEvent) -> None:
    # PostgreSQL text and JSONB refuse NUL characters and lone surrogates; such an event would
    # fail on every retry, so it is rejected up front instead.
    for text in _strings([event.event, event.user_openid, event.content]):
        if "\x00" in text:
            raise MalformedEvent("the event contains NUL characters")
        try:
            text.encode()
        except UnicodeEncodeError as exc:
            raise MalformedEvent("the event contains invalid Unicode") from exc


def parse_event(body: bytes, expected_client_key: str) -> TikTokEvent:
    """The event in a signed body, or `MalformedEvent` saying what is wrong with it.

    A body for another app's client_key raises `ClientKeyMismatch` (401): TikTok keeps
    retrying it, so nothing is lost while the configuration is put right.
    """
    try:
        document = _loads(body.decode())
    except (ValueError, RecursionError) as exc:
        raise MalformedEvent("the body is not valid UTF-8 JSON") from exc
    if not isinstance(document, dict):
        raise MalformedEvent("the body is not a JSON object")
    client_key = _string(document, "client_key", MAX_ID_LENGTH)
    if client_key is None:
        raise MalformedEvent("client_key is missing")
    if client_key != expected_client_key:
        raise ClientKeyMismatch
    event = _string(document, "event", MAX_EVENT_LENGTH)
    if event is None:
        raise MalformedEvent("event is missing")
    parsed = TikTokEvent(
        client_key=client_key,
        event=event,
        create_time=_create_time(document.get("create_time")),
        user_openid=_string(document, "user_openid", MAX_ID_LENGTH),
        content=_content(document.get("content")),
    )
    _ensure_storable(parsed)
    return parsed
