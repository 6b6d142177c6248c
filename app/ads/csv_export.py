"""TikTok's lead export file (page/lead/task/download/) read into `ParsedLead`s.

The file is a CSV, or a zip holding it (TikTok zips exports above 10 MB). Read robustly:
- text: UTF-8 with or without a BOM (TikTok writes one before `lead_id`), or UTF-16 with a
  BOM (a spreadsheet's "Unicode text" re-save); comma, semicolon or tab separated;
- the fixed columns (`lead_id`, `created_time`, ad, ad group, campaign, form) found by name;
  ids unwrapped when Excel-protected (`'7126…`, `="7126…"`) by the webhook parser's helper;
- `created_time` as TikTok writes it (`YYYY-MM-DD HH:MM:SS`, UTC), ISO 8601, `/` dates, or
  epoch seconds or milliseconds;
- every other column is a question labelled in the form's language. Name, email and phone
  columns are recognised in English, Spanish, French, Portuguese and German (case, accents
  and punctuation ignored) and answer under the key the lead webhook uses (`name`, `email`,
  `phone_number`, …) with their heading kept as `label`; other questions answer under their
  heading verbatim, as the webhook sends custom questions. So a lead reads the same whether
  it came by webhook or by export, and every column is kept.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from app.core.sql import clean_text
from app.leads.parsing import (
    Attribution,
    MalformedEntry,
    ParsedLead,
    label,
    parse_time,
    storable_json,
    tiktok_id,
)

LEAD_SOURCE = "INSTANT_FORM"  # the export only holds Instant Form leads
# Uncompressed bytes accepted from a zip: TikTok's own exports are far smaller.
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
MAX_REPORTED_ROWS = 10
_ZIP_MAGIC = b"PK\x03\x04"
_DELIMITERS = (",", ";", "\t")
_EXCEL_PROTECTED = re.compile(r'^(?:\'(?P<quoted>.*)|="(?P<formula>.*)")$', re.DOTALL)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d")
_MILLISECOND_DIGITS = 13


class ExportFormatError(ValueError):
    """The export file cannot be read at all (no CSV inside, not text, no lead_id column)."""


@dataclass(frozen=True, slots=True)
class ParsedExport:
    leads: list[ParsedLead]
    # Rows that held something but could not become a lead, as "row N: why".
    skipped: list[str] = field(default_factory=list)


def heading_key(heading: str) -> str:
    """A heading compared loosely: accents dropped, case folded, punctuation to spaces."""
    decomposed = unicodedata.normalize("NFKD", heading.replace("\ufeff", ""))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_ALNUM.sub(" ", plain.casefold()).strip()


# The fixed columns, by heading key, as the attribute they fill.
_FIXED: dict[str, str] = {
    "lead id": "lead_id",
    "created time": "created_time",
    "create time": "created_time",
    "ad id": "ad_id",
    "ad name": "ad_name",
    "adgroup id": "adgroup_id",
    "ad group id": "adgroup_id",
    "adgroup name": "adgroup_name",
    "ad group name": "adgroup_name",
    "campaign id": "campaign_id",
    "campaign name": "campaign_name",
    "form id": "form_id",
    "page id": "form_id",
    "form name": "form_name",
    "page name": "form_name",
    "advertiser id": "advertiser_id",
    "advertiser name": "advertiser_name",
    "lead source": "lead_source",
}

# Question headings (keys) that mean a contact field, as the webhook's field for it.
_CONTACT_HEADINGS: dict[str, tuple[str, ...]] = {
    "name": (
        "name", "full name", "your name", "nombre", "nombre completo", "nombre y apellido",
        "nombre y apellidos", "nom complet", "nom et prenom", "prenom et nom", "nome",
        "nome completo", "vollstandiger name", "vor und nachname", "vorname und nachname",
    ),
    "first_name": (
        "first name", "given name", "nombre de pila", "prenom", "primeiro nome", "vorname",
    ),
    # French forms ask "Prénom" and "Nom": there "Nom" is the family name.
    "last_name": (
        "last name", "surname", "family name", "apellido", "apellidos", "nom", "nom de famille",
        "sobrenome", "ultimo nome", "apelido", "nachname", "familienname",
    ),
    "email": (
        "email", "e mail", "email address", "e mail address", "correo", "correo electronico",
        "direccion de correo electronico", "adresse e mail", "adresse email", "courriel",
        "adresse courriel", "endereco de email", "endereco de e mail", "e mail adresse",
        "email adresse", "mail",
    ),
    "work_email": (
        "work email", "business email", "correo electronico del trabajo",
        "correo electronico laboral", "correo corporativo", "e mail professionnel",
        "email professionnel", "email corporativo", "e mail corporativo", "email comercial",
        "geschaftliche e mail", "geschaftliche e mail adresse",
    ),
    "phone_number": (
        "phone", "phone number", "mobile", "mobile number", "mobile phone",
        "mobile phone number", "telefono", "numero de telefono", "telefono movil", "movil",
        "celular", "numero de celular", "telephone", "numero de telephone",
        "telephone portable", "portable", "numero de portable", "telefone", "numero de telefone",
        "telemovel", "numero de telemovel", "telefon", "telefonnummer", "handynummer", "handy",
        "mobilnummer", "mobiltelefon",
    ),
    "work_phone_number": (
        "work phone", "work phone number", "business phone", "business phone number",
        "telefono del trabajo", "telefono laboral", "telephone professionnel",
        "telefone comercial", "telefone do trabalho", "geschaftliche telefonnummer",
    ),
}  # fmt: skip
_CONTACT: dict[str, str] = {
    key: field_name for field_name, keys in _CONTACT_HEADINGS.items() for key in keys
}
# Longer headings still mean an email or a phone when they hold one of these words
# ("Tu correo electrónico", "Best phone to reach you").
_EMAIL_WORDS = frozenset({"email", "mail", "correo", "courriel"})
_PHONE_WORDS = frozenset(
    (
        "phone", "telefono", "telephone", "telefone", "telefon", "telefonnummer", "celular",
        "movil", "mobile", "handy", "handynummer", "telemovel",
    )
)  # fmt: skip
_MAX_WORDS_FOR_KEYWORDS = 5


def contact_field(heading: str) -> str | None:
    """The webhook's field for a question heading that asks for a contact detail."""
    key = heading_key(heading)
    if key in _CONTACT:
        return _CONTACT[key]
    words = key.split()
    if not words or len(words) > _MAX_WORDS_FOR_KEYWORDS:
        return None
    if "e mail" in key or _EMAIL_WORDS.intersection(words):
        return "email"
    if _PHONE_WORDS.intersection(words):
        return "phone_number"
    return None


def unprotect(value: str) -> str:
    """A cell with Excel's protection (`'…`, `="…"`) removed."""
    protected = _EXCEL_PROTECTED.match(value.strip())
    if protected is None:
        return value
    return protected["quoted"] if protected["quoted"] is not None else protected["formula"] or ""


def created_time(value: str) -> datetime | None:
    """When the form was submitted; None when the cell says nothing readable."""
    text = unprotect(value).strip().removesuffix(" UTC").removesuffix(" GMT")
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) == _MILLISECOND_DIGITS:
        text = text[:-3]
    parsed = parse_time(text)
    if parsed is not None:
        return parsed
    for layout in _TIME_FORMATS:
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


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
        if rows and any(_FIXED.get(heading_key(cell)) == "lead_id" for cell in rows[0]):
            return [cell.replace("\ufeff", "").strip() for cell in rows[0]], rows[1:]
    raise ExportFormatError("the export has no lead_id column")


@dataclass(frozen=True, slots=True)
class _Context:
    advertiser_id: str
    advertiser_name: str | None
    form_id: str | None
    form_name: str | None
    region: str | None


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

    def cell(self, row: list[str], attribute: str) -> str | None:
        index = self.fixed.get(attribute)
        return row[index] if index is not None else None

    def lead(self, row: list[str], context: _Context) -> ParsedLead:
        """One row as a lead; raises `MalformedEntry`."""
        lead_id = tiktok_id(self.cell(row, "lead_id"), "lead_id")
        if lead_id is None:
            raise MalformedEntry("lead_id is empty")
        if not (lead_id.isascii() and lead_id.isdigit()):
            raise MalformedEntry("lead_id is not a number")

        def identifier(attribute: str) -> str | None:
            return tiktok_id(self.cell(row, attribute), attribute)

        attribution = Attribution(
            advertiser_id=identifier("advertiser_id") or context.advertiser_id,
            advertiser_name=label(self.cell(row, "advertiser_name")) or context.advertiser_name,
            form_id=identifier("form_id") or context.form_id,
            form_name=label(self.cell(row, "form_name")) or context.form_name,
            campaign_id=identifier("campaign_id"),
            campaign_name=label(self.cell(row, "campaign_name")),
            adgroup_id=identifier("adgroup_id"),
            adgroup_name=label(self.cell(row, "adgroup_name")),
            ad_id=identifier("ad_id"),
            ad_name=label(self.cell(row, "ad_name")),
            lead_source=label(self.cell(row, "lead_source"), 64) or LEAD_SOURCE,
        )
        answers: list[dict[str, Any]] = []
        contacts: list[dict[str, Any]] = []
        for index, heading, contact in self.questions:
            value = row[index]
            if contact is None:
                answers.append({"field": heading, "value": value})
            else:
                answers.append({"field": contact, "value": value, "label": heading})
                contacts.append({"field": contact, "value": unprotect(value).strip()})
        raw = {
            "row": dict(zip(self.header, row, strict=True)),
            "advertiser_id": context.advertiser_id,
            "region": context.region,
        }
        submitted = self.cell(row, "created_time")
        lead = ParsedLead.from_answers(
            tiktok_lead_id=lead_id,
            attribution=attribution,
            answers=contacts,
            raw=storable_json(raw),
            submitted_at=created_time(submitted) if submitted is not None else None,
        )
        return replace(lead, answers=storable_json(answers))


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
    context = _Context(advertiser_id, advertiser_name, form_id, form_name, region)
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
