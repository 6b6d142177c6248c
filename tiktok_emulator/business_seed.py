"""The emulator's deterministic fake advertisers, their lead forms, and fake lead answers.

Ids are 19-digit integers like TikTok's (beyond 2**53, so a float would round them). Every
advertiser has an English and a Spanish form: the export's question columns are labelled in
the form's language, the webhook's standard answers are keyed `name`, `email`,
`phone_number` and custom questions by their label. `make_form` builds a form of any id,
title and language for a world set up through the control API.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

Region = Literal["eu", "us"]
Language = Literal["en", "es"]

SEED_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z: seeded forms and leads never move
_SEED_LEAD_ID = 7_126_711_421_177_430_274
_RANDOM_LEAD_ID_BASE = 7_300_000_000_000_000_000
# Regions of each form's seeded leads: two in the default region, one EU, one US.
_SEED_REGIONS: tuple[Region | None, ...] = (None, None, "eu", "us")


@dataclass(frozen=True)
class Question:
    field: str  # the webhook's `changes[].field`
    label: str  # the export's column, in the form's language


@dataclass(frozen=True)
class AdRef:
    """Where a lead came from: the campaign, ad group and ad that showed the form."""

    campaign_id: str
    campaign_name: str
    adgroup_id: str
    adgroup_name: str
    ad_id: str
    ad_name: str


# Test leads (page/lead/mock/create/) come from no ad: TikTok reports zeros.
NO_AD = AdRef("0", "", "0", "", "0", "")


@dataclass(frozen=True)
class FakeForm:
    page_id: str
    advertiser_id: str
    title: str
    language: Language
    create_time: int
    questions: tuple[Question, ...]
    ad: AdRef


@dataclass(frozen=True)
class FakeAdvertiser:
    advertiser_id: str
    advertiser_name: str
    forms: tuple[FakeForm, ...]


@dataclass(frozen=True)
class FakeLead:
    lead_id: str
    page_id: str
    advertiser_id: str
    create_time: int
    region: Region | None
    answers: tuple[str, ...]  # one per question of the form, in order
    ad: AdRef
    test: bool = False


_QUESTIONS = {
    "en": (
        Question("name", "Name"),
        Question("email", "Email"),
        Question("phone_number", "Phone number"),
        Question("What are you interested in?", "What are you interested in?"),
    ),
    "es": (
        Question("name", "Nombre completo"),
        Question("email", "Correo electrónico"),
        Question("phone_number", "Número de teléfono"),
        Question("¿Cuándo prefieres que te llamemos?", "¿Cuándo prefieres que te llamemos?"),
    ),
}
_NAMES = {
    "en": ("Jane Doe", "John Smith", "Emily Clarke", "Michael O'Brien", "Priya Patel", "Wei Chen"),
    "es": ("María José García", "Juan Pérez", "Lucía Fernández", "Sofía Núñez", "Andrés Muñoz"),
}
_CUSTOM_ANSWERS = {
    "en": ("Solar panels", "Battery storage", "Both, please call me"),
    "es": ("Por la mañana", "Por la tarde", "Cualquier hora"),
}
_ASCII = str.maketrans("áéíóúñü'", "aeiounu-")


def _ad(title: str, base: int) -> AdRef:
    """The campaign, ad group and ad showing a form: ids `base` + 1, 2 and 3."""
    return AdRef(
        campaign_id=str(base + 1),
        campaign_name=f"{title} campaign",
        adgroup_id=str(base + 2),
        adgroup_name=f"{title} ad group",
        ad_id=str(base + 3),
        ad_name=f"{title} ad",
    )


def _form(
    advertiser_index: int,
    form_index: int,
    advertiser_id: str,
    title: str,
    language: Language,
) -> FakeForm:
    n = advertiser_index * 10 + form_index
    return FakeForm(
        page_id=str(7_100_000_000_000_000_001 + n * 10_000_019),
        advertiser_id=advertiser_id,
        title=title,
        language=language,
        create_time=SEED_TIME - (30 - n) * 86_400,
        questions=_QUESTIONS[language],
        ad=_ad(title, 1_790_000_000_000_000_000 + n * 1_000_003),
    )


def make_form(
    advertiser_id: str, page_id: str, title: str, language: Language, create_time: int
) -> FakeForm:
    """A form of the given ids: its language's questions, and an ad of its own whose 19-digit
    ids derive from the form's."""
    return FakeForm(
        page_id=page_id,
        advertiser_id=advertiser_id,
        title=title,
        language=language,
        create_time=create_time,
        questions=_QUESTIONS[language],
        ad=_ad(title, 1_790_000_000_000_000_000 + int(page_id) % 10**15 * 10),
    )


def _advertiser(index: int, name: str, titles: tuple[str, str]) -> FakeAdvertiser:
    advertiser_id = str(7_131_000_000_000_000_101 + index * 1_000_000_000_101)
    forms = (
        _form(index, 0, advertiser_id, titles[0], "en"),
        _form(index, 1, advertiser_id, titles[1], "es"),
    )
    return FakeAdvertiser(advertiser_id=advertiser_id, advertiser_name=name, forms=forms)


SEED_ADVERTISERS: tuple[FakeAdvertiser, ...] = (
    _advertiser(0, "Acme Outdoor (sandbox)", ("Spring offer", "Oferta de primavera")),
    _advertiser(1, "Tienda Solar Ñ (sandbox)", ("Free quote", "Presupuesto gratis")),
    _advertiser(2, "Globex Clinics (sandbox)", ("Book a consultation", "Reserva tu cita")),
)


def answers(form: FakeForm, n: int) -> tuple[str, ...]:
    """Realistic answers for variant `n`: phones with and without `+`, mixed-case emails."""
    names = _NAMES[form.language]
    name = names[n % len(names)]
    first, *_, last = name.split()
    local = f"{first}.{last}".lower().translate(_ASCII)
    email = f"{local}{n}@example.com"
    if n % 3 == 0:
        email = f"{first}.{last}{n}@Example.COM".translate(_ASCII)
    digits = (n * 7_919 + 8_888_888) % 10_000_000
    if form.language == "en":
        phone = f"1{508 + n % 400:03d}{digits:07d}"  # TikTok's bare "15088888888"
    else:
        phone = f"346{n % 100:02d}{digits % 1_000_000:06d}"
    if n % 2 == 0:
        phone = f"+{phone}"
    custom = _CUSTOM_ANSWERS[form.language][n % 3]
    return (name, email, phone, custom)


def seed_leads(advertisers: tuple[FakeAdvertiser, ...]) -> list[FakeLead]:
    """A few leads per form, in every region, at fixed ids and times."""
    leads = []
    n = 0
    for advertiser in advertisers:
        for form in advertiser.forms:
            for region in _SEED_REGIONS:
                leads.append(
                    FakeLead(
                        lead_id=str(_SEED_LEAD_ID + n * 1_000_003),
                        page_id=form.page_id,
                        advertiser_id=advertiser.advertiser_id,
                        create_time=SEED_TIME - n * 3_600,
                        region=region,
                        answers=answers(form, n),
                        ad=form.ad,
                    )
                )
                n += 1
    return leads


def random_lead_id() -> str:
    return str(_RANDOM_LEAD_ID_BASE + secrets.randbelow(10**18))


def random_variant() -> int:
    return secrets.randbelow(1_000_000)
