"""TikTok's lead export file (page/lead/task/download/) read into `ParsedLead`s.

The file is a CSV, or a zip holding it (TikTok zips exports above 10 MB). Read robustly:
- text: UTF-8 with or without a BOM (TikTok writes one before `lead_id`), or UTF-16 with a
  BOM (a spreadsheet's "Unicode text" re-save); comma, semicolon or tab separated;
- the fixed columns (`lead_id`, `created_time`, ad, ad group, campaign, form) found by name
  and read under the lead webhook's field names, then parsed like a webhook entry
  (`app.leads.parsing.parse_lead`: Excel-protected ids, `created_time` as TikTok writes it);
- every other column is a question labelled in the form's language. Name, email and phone
  columns (`app.leads.normalize.contact_field`) answer under the key the lead webhook uses
  (`name`, `email`, `phone_number`, …) with their heading kept as `label`; other questions
  answer under their heading verbatim, as the webhook sends custom questions. So a lead
  reads the same whether it came by webhook or by export, and every column is kept.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from app.core.sql import clean_text
from app.leads.normalize import contact_field, heading_key
from app.leads.parsing import Attribution, MalformedEntry, ParsedLead, parse_lead, tiktok_id

LEAD_SOURCE = "INSTANT_FORM"  # the export only holds Instant Form leads
# Uncompressed bytes accepted from a zip: TikTok's own exports are far smaller.
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_DELIMITERS = (",", ";", "\t")


class ExportFormatError(ValueError):
    """The export file cannot be read at all (no CSV inside, not text, no lead_id column)."""


@dataclass(frozen=True, slots=True)
class ParsedExport:
    leads: list[ParsedLead]
    # Rows that held something but could not become a lead, as "row N: why".
    skipped: list[str] = field(default_factory=list)


# The fixed columns, by heading key, as the lead webhook's field they are.
_FIXED: dict[str, str] = {
    "lead id": "id",
    "created time": "create_time",
    "create time": "create_time",
    "ad id": "ad_id",
    "ad name": "ad_name",
    "adgroup id": "adgroup_id",
    "ad group id": "adgroup_id",
    "adgroup name": "adgroup_name",
    "ad group name": "adgroup_name",
    "campaign id": "campaign_id",
    "campaign name": "campaign_name",
    "form id": "page_id",
    "page id": "page_id",
    "form name": "page_name",
    "page name": "page_name",
    "advertiser id": "advertiser_id",
    "advertiser name": "advertiser_name",
    "lead source": "lead_source",
}


def csv_files(data: bytes) -> list[bytes]:
    """The CSV bytes of the export: the file itself, or every CSV inside its zip."""
    if not data.startswith(_ZIP_MAGIC):
        return [data]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [
                info
                for info in archive.infolist()
                if not info.is_dir() and not info.filename.startswith("__MACOSX/")
            ]
            chosen = [i for i in members if i.filename.lower().endswith(".csv")] or members
            if not chosen:
                raise ExportFormatError("the export zip holds no file")
            if sum(info.file_size for info in chosen) > MAX_UNZIPPED_BYTES:
                raise ExportFormatError("the export zip is too large once unpacked")
            return [archive.read(info) for info in chosen]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise ExportFormatError(f"the export zip cannot be read ({exc})") from exc


def _text(data: bytes) -> str:
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    try:
        return data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportFormatError(f"the export is not {'UTF-16' if utf16 else 'UTF-8'} text") from exc


def _rows(text: str) -> tuple[list[str], list[list[str]]]:
    """The header and the rows, with the first delimiter whose header has a lead_id."""
    for delimiter in _DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as exc:
            raise ExportFormatError(f"the export is not valid CSV ({exc})") from exc
        if rows and any(_FIXED.get(heading_key(cell)) == "id" for cell in rows[0]):
            return [cell.replace("\ufeff", "").strip() for cell in rows[0]], rows[1:]
    raise ExportFormatError("the export has no lead_id column")


@dataclass(frozen=True, slots=True)
class _Context:
    advertiser_id: str
    region: str | None
    # What the export was asked for fills what its rows do not say.
    defaults: Attribution


class _Layout:
    """Which column holds what, worked out once from the header."""

    def __init__(self, header: list[str]) -> None:
        self.header = header
        self.fixed: dict[str, int] = {}
        self.questions: list[tuple[int, str, str | None]] = []  # (column, heading, field)
        for index, heading in enumerate(header):
            attribute = _FIXED.get(heading_key(heading))
            if attribute is not None and attribute not in self.fixed:
                self.fixed[attribute] = index
            else:
                self.questions.append((index, heading, contact_field(heading)))

    def lead(self, row: list[str], context: _Context) -> ParsedLead:
        """One row as a lead; raises `MalformedEntry`."""
        fields: dict[str, Any] = {name: row[index] for name, index in self.fixed.items()}
        lead_id = tiktok_id(fields.get("id"), "lead_id")
        if lead_id is None:
            raise MalformedEntry("lead_id is empty")
        if not (lead_id.isascii() and lead_id.isdigit()):
            raise MalformedEntry("lead_id is not a number")
        answers: list[dict[str, Any]] = []
        for index, heading, contact in self.questions:
            if contact is None:
                answers.append({"field": heading, "value": row[index]})
            else:
                answers.append({"field": contact, "value": row[index], "label": heading})
        raw = {
            "row": dict(zip(self.header, row, strict=True)),
            "advertiser_id": context.advertiser_id,
            "region": context.region,
        }
        return parse_lead(fields | {"id": lead_id}, answers, raw, context.defaults)


def _fit(row: list[str], width: int) -> list[str]:
    cells = [clean_text(cell) for cell in row[:width]]
    return cells + [""] * (width - len(cells))


def parse_export(
    data: bytes,
    *,
    advertiser_id: str,
    advertiser_name: str | None = None,
    form_id: str | None = None,
    form_name: str | None = None,
    region: str | None = None,
) -> ParsedExport:
    """Every lead of an export file; raises `ExportFormatError` when it cannot be read.

    The advertiser (and form) the export was asked for fill what the file does not say.
    """
    defaults = Attribution(
        advertiser_id=advertiser_id,
        advertiser_name=advertiser_name,
        form_id=form_id,
        form_name=form_name,
        lead_source=LEAD_SOURCE,
    )
    context = _Context(advertiser_id, region, defaults)
    leads: list[ParsedLead] = []
    skipped: list[str] = []
    for content in csv_files(data):
        text = _text(content)
        if not text.strip():
            continue  # an export with no lead may come back empty
        header, rows = _rows(text)
        layout = _Layout(header)
        for number, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            try:
                leads.append(layout.lead(_fit(row, len(header)), context))
            except MalformedEntry as exc:
                skipped.append(f"row {number}: {exc}")
    return ParsedExport(leads=leads, skipped=skipped)
