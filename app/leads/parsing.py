"""From TikTok's lead payloads to `ParsedLead`, the one shape every lead source produces.

`parse_lead` is the one way from TikTok's lead fields to a lead: the webhook's entries
(`parse_entry`) and the lead export's rows (`app.ads.csv_export`, which reads its columns
into the webhook's field names) both go through it, so a lead reads the same whichever way
it came.

Ids: TikTok sends unquoted 19-digit integers. The body is parsed with `json.loads`, whose
Python ints are exact, and every id becomes a string; an id written as a float (its digits
may already be lost) makes its entry unusable. Elsewhere integers beyond JavaScript's safe
range are stored as strings too, so no consumer of the stored JSON rounds them.

Text: NUL characters and lone surrogates (which PostgreSQL refuses) become U+FFFD, and
labels are cut to their column's length, so a lead that parses also stores.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from app.core.db import LABEL_LENGTH, TIKTOK_ID_LENGTH
from app.core.sql import clean_text
from app.leads.normalize import (
    clean_name,
    contact_field,
    normalize_email,
    normalize_phone,
    split_name,
)

MAX_DEPTH = 32
MAX_SAFE_INTEGER = 2**53 - 1
# 9999-12-31T23:59:59Z: the last second a datetime can hold.
MAX_UNIX_TIME = 253_402_300_799
MILLISECOND_DIGITS = 13
# Naive layouts besides ISO 8601 (spreadsheets re-save TikTok's export with them).
_TIME_LAYOUTS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d")
MAX_REASON_ENTRIES = 10
LEAD_OBJECT = 1

# Contact fields (`normalize.contact_field`) in the order they are looked for.
EMAIL_FIELDS = ("email", "work_email")
PHONE_FIELDS = ("phone_number", "work_phone_number")
# Excel-protected cells in exported CSVs: '123 and ="123".
_EXCEL_PROTECTED = re.compile(r'^(?:\'(?P<quoted>.*)|="(?P<formula>.*)")$', re.DOTALL)


class MalformedDelivery(ValueError):
    """An authenticated body that can never be used: stored as rejected, answered 200."""


class MalformedEntry(ValueError):
    """One entry of a batch that cannot become a lead (the others still can)."""


@dataclass(frozen=True, slots=True)
class Attribution:
    """Where a lead came from: TikTok's advertiser, form (page) and campaign/ad hierarchy."""

    advertiser_id: str | None = None
    advertiser_name: str | None = None
    form_id: str | None = None
    form_name: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    adgroup_id: str | None = None
    adgroup_name: str | None = None
    ad_id: str | None = None
    ad_name: str | None = None
    lead_source: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedLead:
    """A lead from any source (webhook entry, backfill CSV row), ready for `ingest`."""

    tiktok_lead_id: str
    attribution: Attribution
    # [{"field": ..., "value": ...}] as received, in order.
    answers: list[dict[str, Any]]
    # The source record as JSON with ids as strings.
    raw: dict[str, Any]
    # When the user submitted the form; None means unknown (ingest uses the receipt time).
    submitted_at: datetime | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None

    @classmethod
    def from_answers(
        cls,
        *,
        tiktok_lead_id: str,
        attribution: Attribution,
        answers: list[dict[str, Any]],
        raw: dict[str, Any],
        submitted_at: datetime | None = None,
    ) -> ParsedLead:
        """The lead with its contact fields (name, email, phone) read from the answers."""
        by_field: dict[str, list[Any]] = {}
        for answer in answers:
            question = answer.get("field")
            contact = contact_field(question) if isinstance(question, str) else None
            if contact is not None:
                value = answer.get("value")
                by_field.setdefault(contact, []).append(
                    unprotect(value) if isinstance(value, str) else value
                )

        def first(fields: tuple[str, ...], normalize: Callable[[Any], str | None]) -> str | None:
            for name in fields:
                for value in by_field.get(name, []):
                    normalized = normalize(value)
                    if normalized is not None:
                        return normalized
            return None

        name = first(("name",), clean_name)
        first_name = first(("first_name",), clean_name)
        last_name = first(("last_name",), clean_name)
        if name is None and (first_name or last_name):
            name = " ".join(part for part in (first_name, last_name) if part)
        elif name is not None and first_name is None and last_name is None:
            first_name, last_name = split_name(name)
        return cls(
            tiktok_lead_id=tiktok_lead_id,
            attribution=attribution,
            answers=answers,
            raw=raw,
            submitted_at=submitted_at,
            name=_cut(name),
            first_name=_cut(first_name),
            last_name=_cut(last_name),
            email=first(EMAIL_FIELDS, normalize_email),
            phone=first(PHONE_FIELDS, normalize_phone),
        )


@dataclass(frozen=True, slots=True)
class ParsedDelivery:
    """A lead webhook body: its leads, or `ignored` when `object` is not a lead."""

    kind: Literal["leads", "ignored"]
    entry_count: int = 0
    leads: list[ParsedLead] = field(default_factory=list)
    # One line per entry that could not become a lead.
    skipped: list[str] = field(default_factory=list)
    reason: str | None = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(body: bytes) -> Any:
    """JSON with exact integers; NaN/Infinity refused. Raises `MalformedDelivery`."""
    try:
        return json.loads(body.decode(), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise MalformedDelivery("the body is not valid UTF-8 JSON") from exc


def _cut(value: str | None, length: int = LABEL_LENGTH) -> str | None:
    return value[:length] if value is not None else None


def unprotect(value: str) -> str:
    """A cell with Excel's protection (`'…`, `="…"`) removed."""
    protected = _EXCEL_PROTECTED.match(value.strip())
    if protected is None:
        return value
    return protected["quoted"] if protected["quoted"] is not None else protected["formula"] or ""


def tiktok_id(value: Any, name: str = "id") -> str | None:
    """An id as a string: from an int, a string, or an Excel-protected CSV cell."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MalformedEntry(f"{name} is not an id")
    if isinstance(value, int):
        if value < 0:
            raise MalformedEntry(f"{name} is negative")
        text = str(value)
    elif isinstance(value, float):
        raise MalformedEntry(f"{name} is a float: its digits may be lost")
    elif isinstance(value, str):
        text = clean_text(unprotect(value).strip())
    else:
        raise MalformedEntry(f"{name} is not an id")
    if not text:
        return None
    if len(text) > TIKTOK_ID_LENGTH:
        raise MalformedEntry(f"{name} is longer than {TIKTOK_ID_LENGTH} characters")
    return text


def label(value: Any, length: int = LABEL_LENGTH) -> str | None:
    """A display name: text cleaned and cut to its column, numbers as text."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    return _cut(clean_text(value).strip() or None, length)


def parse_time(value: Any) -> datetime | None:
    """When a form was submitted, as TikTok writes it anywhere: Unix seconds (a number or
    digits; 13 digits are milliseconds), ISO 8601, or `YYYY-MM-DD HH:MM[:SS]` and `/` dates
    (naive means UTC; a trailing ` UTC` and Excel's protection are dropped); else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = unprotect(value).strip().removesuffix(" UTC").removesuffix(" GMT")
        digits = text.isascii() and text.isdigit()
        if digits and len(text) == MILLISECOND_DIGITS:
            text = text[:-3]
        if not (digits and len(text) <= len(str(MAX_UNIX_TIME))):
            return _text_time(text)
        value = int(text)
    if isinstance(value, int | float) and 0 <= value <= MAX_UNIX_TIME:
        return datetime.fromtimestamp(value, UTC)
    return None


def _text_time(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for layout in _TIME_LAYOUTS:
            try:
                return datetime.strptime(text, layout).replace(tzinfo=UTC)
            except ValueError:
                continue
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _id_like(key: str) -> bool:
    return key == "id" or key.endswith("_id")


def storable_json(value: Any, key: str = "", depth: int = 0) -> Any:
    """JSON safe to store and to hand to any client: ids and unsafe integers as strings,
    text cleaned. Raises `MalformedEntry` past `MAX_DEPTH`."""
    if depth > MAX_DEPTH:
        raise MalformedEntry("nested too deeply")
    if isinstance(value, dict):
        return {
            clean_text(str(k)): storable_json(item, str(k), depth + 1) for k, item in value.items()
        }
    if isinstance(value, list):
        return [storable_json(item, key, depth + 1) for item in value]
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if _id_like(key) or abs(value) > MAX_SAFE_INTEGER:
        return str(value)
    return value


def parse_lead(
    fields: Mapping[str, Any],
    answers: list[dict[str, Any]],
    raw: dict[str, Any],
    defaults: Attribution | None = None,
) -> ParsedLead:
    """A lead from TikTok's lead fields, by the webhook's names (`id`, `advertiser_id`,
    `page_id` or `form_id`, `campaign_name`, `create_time`, …): ids exact, names cleaned
    and cut to their column, the submission time read, the contact fields taken from the
    answers; answers and raw record made storable. `defaults` fill the attribution the
    fields leave empty. Raises `MalformedEntry`."""
    lead_id = tiktok_id(fields.get("id"))
    if lead_id is None:
        raise MalformedEntry("id is missing")
    found = Attribution(
        advertiser_id=tiktok_id(fields.get("advertiser_id"), "advertiser_id"),
        advertiser_name=label(fields.get("advertiser_name")),
        form_id=tiktok_id(fields.get("page_id", fields.get("form_id")), "page_id"),
        form_name=label(fields.get("page_name", fields.get("form_name"))),
        campaign_id=tiktok_id(fields.get("campaign_id"), "campaign_id"),
        campaign_name=label(fields.get("campaign_name")),
        adgroup_id=tiktok_id(fields.get("adgroup_id"), "adgroup_id"),
        adgroup_name=label(fields.get("adgroup_name")),
        ad_id=tiktok_id(fields.get("ad_id"), "ad_id"),
        ad_name=label(fields.get("ad_name")),
        lead_source=label(fields.get("lead_source"), 64),
    )
    if defaults is not None:
        found = Attribution(
            **{
                part.name: getattr(found, part.name) or getattr(defaults, part.name)
                for part in dataclasses.fields(Attribution)
            }
        )
    return ParsedLead.from_answers(
        tiktok_lead_id=lead_id,
        attribution=found,
        answers=storable_json(answers),
        raw=storable_json(raw),
        submitted_at=parse_time(fields.get("create_time", fields.get("created_time"))),
    )


def parse_entry(entry: dict[str, Any]) -> ParsedLead:
    """One webhook `entry[]` item (TIKTOK_API.md §4). Raises `MalformedEntry`."""
    changes = entry.get("changes")
    answers = [
        {"field": item.get("field"), "value": item.get("value")}
        for item in (changes if isinstance(changes, list) else [])
        if isinstance(item, dict)
    ]
    return parse_lead(entry, answers, entry)


def _is_lead_object(kind: Any) -> bool:
    return (isinstance(kind, int) and not isinstance(kind, bool) and kind == LEAD_OBJECT) or (
        isinstance(kind, str) and kind.strip() == str(LEAD_OBJECT)
    )


def _summary(problems: list[str]) -> str:
    shown = "; ".join(problems[:MAX_REASON_ENTRIES])
    more = len(problems) - MAX_REASON_ENTRIES
    return f"{shown}; and {more} more" if more > 0 else shown


def parse_delivery(body: bytes) -> ParsedDelivery:
    """A lead webhook body. Raises `MalformedDelivery` when nothing in it can ever be used;
    entries that cannot be used are skipped (and named) while the others are kept."""
    document = loads(body)
    if not isinstance(document, dict):
        raise MalformedDelivery("the body is not a JSON object")
    if "object" not in document:
        raise MalformedDelivery("object is missing")
    kind = document["object"]
    if not _is_lead_object(kind):
        return ParsedDelivery("ignored", reason=f"object {str(kind)[:32]!r} is not a lead (1)")
    entries = document.get("entry")
    if not isinstance(entries, list):
        raise MalformedDelivery("entry is missing or not a list")
    leads: list[ParsedLead] = []
    skipped: list[str] = []
    for index, entry in enumerate(entries):
        try:
            if not isinstance(entry, dict):
                raise MalformedEntry("not a JSON object")
            leads.append(parse_entry(entry))
        except MalformedEntry as exc:
            skipped.append(f"entry {index}: {exc}")
    if skipped and not leads:
        raise MalformedDelivery("no usable entry: " + _summary(skipped))
    return ParsedDelivery(
        "leads",
        entry_count=len(entries),
        leads=leads,
        skipped=skipped,
        reason=("skipped " + _summary(skipped)) if skipped else None,
    )
