"""The lead export file, as page/lead/task/download/ serves it (TIKTOK_API.md §4).

UTF-8 CSV with a BOM before the first header (`lead_id`), the fixed attribution columns,
then one column per question labelled in the form's language. Some ids are written the way
Excel-safe exports protect them, `'7126...` and `="7126..."`, so importers must unwrap both.
Above the size threshold the CSV is served inside a zip.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Sequence

from tiktok_emulator.business_seed import FakeForm, FakeLead

HEADERS: tuple[str, ...] = (
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


def _apostrophe(value: str) -> str:
    return f"'{value}"


def _formula(value: str) -> str:
    return f'="{value}"'


def _plain(value: str) -> str:
    return value


# lead_id rotates through every style row by row; the other ids keep one style each.
_LEAD_ID_STYLES = (_plain, _apostrophe, _formula)


def _row(index: int, form: FakeForm, lead: FakeLead) -> list[str]:
    return [
        _LEAD_ID_STYLES[index % len(_LEAD_ID_STYLES)](lead.lead_id),
        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(lead.create_time)),
        _formula(lead.ad.ad_id),
        lead.ad.ad_name,
        lead.ad.adgroup_id,
        lead.ad.adgroup_name,
        _apostrophe(lead.ad.campaign_id),
        lead.ad.campaign_name,
        _formula(form.page_id),
        form.title,
        *lead.answers,
    ]


def export_csv(form: FakeForm, leads: Sequence[FakeLead]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*HEADERS, *(question.label for question in form.questions)])
    for index, lead in enumerate(leads):
        writer.writerow(_row(index, form, lead))
    return buffer.getvalue().encode("utf-8-sig")


def export_file(
    task_id: str, form: FakeForm, leads: Sequence[FakeLead], zip_threshold: int
) -> tuple[bytes, bool]:
    """The file and whether it is a zip (when the CSV is larger than `zip_threshold` bytes)."""
    content = export_csv(form, leads)
    if len(content) <= zip_threshold:
        return content, False
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"leads_{task_id}.csv", content)
    return buffer.getvalue(), True
