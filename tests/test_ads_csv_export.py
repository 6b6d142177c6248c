"""Reading TikTok's lead export: BOM, localized headings, Excel-protected ids, zip, times,
and the same lead whether it came by webhook or by export. Pure unit tests of the parser, on
export files written here (shapes the emulator never sends: other languages, separators,
encodings, junk rows) and on the emulator's own."""

from __future__ import annotations

import codecs
import csv
import io
import json
import time
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import pytest

from app.ads.csv_export import ExportFormatError, parse_export
from app.leads.normalize import contact_field
from app.leads.parsing import parse_entry
from app.leads.parsing import parse_time as created_time
from tests.ads_support import ADVERTISER_A, FORM_EN, FORM_ES
from tiktok_emulator.business_export import export_file
from tiktok_emulator.business_state import BusinessWorld
from tiktok_emulator.business_webhooks import lead_entry
from tiktok_emulator.config import EmulatorConfig

LEAD = "7126711421177430274"
SPANISH = ("Nombre completo", "Correo electrónico", "Número de teléfono", "¿Cuándo llamamos?")
CAMPAIGN = "1790000000000000001"
ADGROUP = "1790000000000000002"
AD = "1790000000000000003"
# The export's columns before the questions (TIKTOK_API.md §4).
FIXED_COLUMNS = (
    "lead_id",
    "created_time",
    "ad_id",
    "ad_name",
    "adgroup_id",
    "adgroup_name",
    "campaign_id",
    "campaign_name",
    "form_id",
    "form_name",
)


def export_csv(
    rows: Iterable[Sequence[str]], questions: Sequence[str] = ("Name", "Email", "Phone number")
) -> bytes:
    """An export file with a BOM: the fixed columns, then the questions; each row gives every
    cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*FIXED_COLUMNS, *questions])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def export_row(
    lead_id: str,
    answers: Sequence[str],
    *,
    form_id: str = FORM_EN,
    form_name: str = "Spring offer",
    created: str = "2026-01-01 10:00:00",
) -> list[str]:
    return [
        lead_id,
        created,
        f'="{AD}"',
        "Spring ad",
        ADGROUP,
        "Spring ad group",
        f"'{CAMPAIGN}",
        "Spring campaign",
        f'="{form_id}"',
        form_name,
        *answers,
    ]


def _parse(data: bytes, **context: str | None):
    values = {"advertiser_id": ADVERTISER_A, "advertiser_name": "Acme Outdoor"} | context
    return parse_export(data, **values)


def test_a_bom_export_with_excel_protected_ids_reads_exact_ids_and_contacts() -> None:
    rows = [
        export_row(LEAD, ["Jane Doe", " Jane@Example.COM ", "15088888888"]),
        export_row(f"'{int(LEAD) + 1}", ["John Smith", "john@example.com", "+15088888889"]),
        export_row(f'="{int(LEAD) + 2}"', ["Wei Chen", "not an email", "123"]),
    ]
    data = export_csv(rows)
    assert data.startswith(codecs.BOM_UTF8)

    parsed = _parse(data, form_id=FORM_EN, form_name="Spring offer")

    assert parsed.skipped == []
    first, second, third = parsed.leads
    assert [lead.tiktok_lead_id for lead in parsed.leads] == [
        LEAD,
        str(int(LEAD) + 1),
        str(int(LEAD) + 2),
    ]
    assert (first.name, first.first_name, first.last_name) == ("Jane Doe", "Jane", "Doe")
    assert (first.email, first.phone) == ("jane@example.com", "+15088888888")
    assert (third.email, third.phone) == (None, None)
    assert first.submitted_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    a = second.attribution
    assert (a.advertiser_id, a.advertiser_name) == (ADVERTISER_A, "Acme Outdoor")
    assert (a.form_id, a.form_name, a.lead_source) == (FORM_EN, "Spring offer", "INSTANT_FORM")
    assert (a.campaign_id, a.adgroup_id, a.ad_id) == (CAMPAIGN, ADGROUP, AD)
    assert (a.campaign_name, a.ad_name) == ("Spring campaign", "Spring ad")
    assert first.answers == [
        {"field": "name", "value": "Jane Doe", "label": "Name"},
        {"field": "email", "value": " Jane@Example.COM ", "label": "Email"},
        {"field": "phone_number", "value": "15088888888", "label": "Phone number"},
    ]
    assert first.raw["row"]["lead_id"] == LEAD
    assert first.raw["advertiser_id"] == ADVERTISER_A


def test_spanish_headings_are_recognised_and_every_question_is_kept_verbatim() -> None:
    rows = [export_row(LEAD, ["María José García", "mj@example.es", "34612345678", "Mañana"])]

    (lead,) = _parse(export_csv(rows, SPANISH)).leads

    assert (lead.name, lead.first_name, lead.last_name) == (
        "María José García",
        "María",
        "José García",
    )
    assert (lead.email, lead.phone) == ("mj@example.es", "+34612345678")
    assert lead.answers == [
        {"field": "name", "value": "María José García", "label": "Nombre completo"},
        {"field": "email", "value": "mj@example.es", "label": "Correo electrónico"},
        {"field": "phone_number", "value": "34612345678", "label": "Número de teléfono"},
        {"field": "¿Cuándo llamamos?", "value": "Mañana"},
    ]


@pytest.mark.parametrize(
    ("heading", "field"),
    [
        ("Full name", "name"),
        ("NOMBRE", "name"),
        ("Nom complet", "name"),
        ("Nome completo", "name"),
        ("Vollständiger Name", "name"),
        ("Prénom", "first_name"),
        ("Nom", "last_name"),
        ("Vorname", "first_name"),
        ("Sobrenome", "last_name"),
        ("Apellidos", "last_name"),
        ("E-mail", "email"),
        ("Adresse e-mail", "email"),
        ("E-Mail-Adresse", "email"),
        ("Endereço de e-mail", "email"),
        ("Tu correo electrónico", "email"),
        ("Work email", "work_email"),
        ("Numéro de téléphone", "phone_number"),
        ("Número de telefone", "phone_number"),
        ("Telefonnummer", "phone_number"),
        ("Celular", "phone_number"),
        ("Best phone to reach you", "phone_number"),
        ("What are you interested in?", None),
        ("¿Cuándo prefieres que te llamemos?", None),
        ("Company name", None),
    ],
)
def test_contact_headings_in_five_languages(heading: str, field: str | None) -> None:
    assert contact_field(heading) == field


def test_french_first_and_last_name_columns_make_the_name() -> None:
    rows = [export_row(LEAD, ["Amélie", "Poulain", "amelie@example.fr", "+33612345678"])]

    (lead,) = _parse(export_csv(rows, ("Prénom", "Nom", "Courriel", "Téléphone"))).leads

    assert (lead.name, lead.first_name, lead.last_name) == ("Amélie Poulain", "Amélie", "Poulain")
    assert (lead.email, lead.phone) == ("amelie@example.fr", "+33612345678")


def test_an_export_zip_holds_the_csv() -> None:
    csv_bytes = export_csv([export_row(LEAD, ["Jane Doe", "jane@example.com", "15088888888"])])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__MACOSX/._leads.csv", b"junk")
        archive.writestr("leads_123.csv", csv_bytes)

    (lead,) = _parse(buffer.getvalue()).leads

    assert (lead.tiktok_lead_id, lead.email) == (LEAD, "jane@example.com")


def test_a_broken_zip_is_an_export_format_error() -> None:
    with pytest.raises(ExportFormatError):
        _parse(b"PK\x03\x04 not really a zip")


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01 10:00:00",
        "2026-01-01T10:00:00Z",
        "2026-01-01T11:00:00+01:00",
        "2026/01/01 10:00:00",
        "1767261600",
        "1767261600000",
        "'2026-01-01 10:00:00",
        "2026-01-01 10:00:00 UTC",
    ],
)
def test_created_time_formats(text: str) -> None:
    assert created_time(text) == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def test_an_unreadable_created_time_is_left_unknown() -> None:
    assert created_time("yesterday") is None
    rows = [export_row(LEAD, ["Jane", "j@example.com", "1"], created="yesterday")]
    assert _parse(export_csv(rows)).leads[0].submitted_at is None


def test_semicolons_utf16_and_reordered_columns_are_read() -> None:
    header = ["Email", "form_id", "lead_id", "created_time"]
    text = ";".join(header) + "\r\n" + f"a@example.com;{FORM_ES};'{LEAD};2026-01-01 10:00:00\r\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")

    (lead,) = _parse(data).leads

    assert (lead.tiktok_lead_id, lead.email, lead.attribution.form_id) == (
        LEAD,
        "a@example.com",
        FORM_ES,
    )


def test_rows_that_are_not_leads_are_skipped_and_named() -> None:
    rows = [
        export_row(LEAD, ["Jane", "j@example.com", "1"]),
        ["", "", "", "", "", "", "", "", "", "", "", "", ""],
        export_row("Total", ["", "", ""]),
        export_row("", ["orphan", "", ""]),
    ]

    parsed = _parse(export_csv(rows))

    assert [lead.tiktok_lead_id for lead in parsed.leads] == [LEAD]
    assert parsed.skipped == ["row 4: lead_id is not a number", "row 5: lead_id is empty"]


def test_an_export_without_a_lead_id_column_is_refused() -> None:
    with pytest.raises(ExportFormatError, match="lead_id"):
        _parse(b"\xef\xbb\xbfname,email\r\nJane,j@example.com\r\n")


def test_an_empty_export_has_no_leads() -> None:
    assert _parse(b"").leads == []
    assert _parse(export_csv([])).leads == []


def test_a_lead_reads_the_same_by_webhook_and_by_export() -> None:
    """The emulator's own webhook entry and export row (zipped) of the same leads (English and
    Spanish forms, every Excel id style, a test lead without an ad) parse to the same lead."""
    world = BusinessWorld(EmulatorConfig(), time.time)
    advertiser = world.advertisers[next(iter(world.advertisers))]
    for form in advertiser.forms:
        leads = [lead for lead in world.leads.values() if lead.page_id == form.page_id]
        leads.append(world.add_lead(form, region=None, test=True))
        content, zipped = export_file("1", form, leads, zip_threshold=1)  # zipped, as if large
        assert zipped
        exported = {
            lead.tiktok_lead_id: lead
            for lead in parse_export(
                content,
                advertiser_id=advertiser.advertiser_id,
                advertiser_name=advertiser.advertiser_name,
                form_id=form.page_id,
                form_name=form.title,
            ).leads
        }
        assert len(exported) == len(leads)
        for fake in leads:
            by_webhook = parse_entry(json.loads(json.dumps(lead_entry(world, fake))))
            by_export = exported[fake.lead_id]
            for name in (
                "attribution",
                "submitted_at",
                "name",
                "first_name",
                "last_name",
                "email",
                "phone",
            ):
                assert getattr(by_export, name) == getattr(by_webhook, name), (form.title, name)
            assert [(a["field"], a["value"]) for a in by_export.answers] == [
                (a["field"], a["value"]) for a in by_webhook.answers
            ]
