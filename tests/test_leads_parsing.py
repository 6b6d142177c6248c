"""From TikTok's lead payloads to `ParsedLead`: exact ids, verbatim answers, clean contacts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.leads.normalize import normalize_email, normalize_phone, split_name
from app.leads.parsing import (
    Attribution,
    MalformedDelivery,
    MalformedEntry,
    ParsedLead,
    parse_delivery,
    parse_entry,
    tiktok_id,
)

# TIKTOK_API.md §4, byte for byte (bare 19-digit integers).
DOCUMENTED_BODY = b"""{"object": 1, "time": 1614334356, "entry": [{
  "id": 7126711421177430274, "lead_source": "INSTANT_FORM",
  "page_id": 7100000000000000001, "page_name": "Spring offer",
  "advertiser_id": 7000000000000000001, "advertiser_name": "Acme",
  "campaign_id": 1, "campaign_name": "c", "adgroup_id": 2, "adgroup_name": "g",
  "ad_id": 3, "ad_name": "a", "library_id": 0, "create_time": 1614239152,
  "changes": [{"field": "name", "value": "Jane Doe"},
              {"field": "email", "value": "jane@example.com"},
              {"field": "phone_number", "value": "15088888888"},
              {"field": "gender", "value": "Female"}, {"field": "address", "value": "..."},
              {"field": "scheduled_time", "value": "Wednesday / 12:00 - 13:00"}]}]}"""

DOCUMENTED_ANSWERS = [
    {"field": "name", "value": "Jane Doe"},
    {"field": "email", "value": "jane@example.com"},
    {"field": "phone_number", "value": "15088888888"},
    {"field": "gender", "value": "Female"},
    {"field": "address", "value": "..."},
    {"field": "scheduled_time", "value": "Wednesday / 12:00 - 13:00"},
]


def test_the_documented_payload_becomes_a_complete_lead() -> None:
    parsed = parse_delivery(DOCUMENTED_BODY)
    assert parsed.kind == "leads"
    assert parsed.entry_count == 1
    assert parsed.skipped == []
    [lead] = parsed.leads
    assert lead.tiktok_lead_id == "7126711421177430274"
    assert lead.submitted_at == datetime.fromtimestamp(1614239152, UTC)
    assert (lead.name, lead.first_name, lead.last_name) == ("Jane Doe", "Jane", "Doe")
    assert lead.email == "jane@example.com"
    assert lead.phone == "+15088888888"
    assert lead.answers == DOCUMENTED_ANSWERS
    assert lead.attribution == Attribution(
        advertiser_id="7000000000000000001",
        advertiser_name="Acme",
        form_id="7100000000000000001",
        form_name="Spring offer",
        campaign_id="1",
        campaign_name="c",
        adgroup_id="2",
        adgroup_name="g",
        ad_id="3",
        ad_name="a",
        lead_source="INSTANT_FORM",
    )
    assert lead.raw["id"] == "7126711421177430274"
    assert lead.raw["advertiser_id"] == "7000000000000000001"
    assert lead.raw["library_id"] == "0"
    assert lead.raw["create_time"] == 1614239152


def test_ids_a_float_would_merge_stay_distinct() -> None:
    first, second = 7126711421177430274, 7126711421177430275
    assert float(first) == float(second)  # what a float-based parser would store
    body = json.dumps({"object": 1, "entry": [{"id": first}, {"id": second}]}).encode()
    assert [lead.tiktok_lead_id for lead in parse_delivery(body).leads] == [
        "7126711421177430274",
        "7126711421177430275",
    ]


def test_an_id_written_as_a_float_is_not_trusted() -> None:
    with pytest.raises(MalformedEntry, match="float"):
        parse_entry({"id": 7.126711421177430e18})
    body = b'{"object": 1, "entry": [{"id": 7126711421177430274.0}, {"id": 7126711421177430276}]}'
    parsed = parse_delivery(body)
    assert [lead.tiktok_lead_id for lead in parsed.leads] == ["7126711421177430276"]
    assert parsed.skipped == ["entry 0: id is a float: its digits may be lost"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7126711421177430274, "7126711421177430274"),
        ("7126711421177430274", "7126711421177430274"),
        (" 7126711421177430274 ", "7126711421177430274"),
        ("'7126711421177430274", "7126711421177430274"),
        ('="7126711421177430274"', "7126711421177430274"),
        ("", None),
        (None, None),
    ],
)
def test_ids_from_any_source_become_the_same_text(value: object, expected: str | None) -> None:
    assert tiktok_id(value) == expected


@pytest.mark.parametrize("value", [True, -1, "x" * 33, {"id": 1}])
def test_values_that_are_not_ids_are_refused(value: object) -> None:
    with pytest.raises(MalformedEntry):
        tiktok_id(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Jane@Example.COM ", "jane@example.com"),
        ("jane.doe+crm@mail.example.co.uk", "jane.doe+crm@mail.example.co.uk"),
        ("not an email", None),
        ("jane@localhost", None),
        ("jane@@example.com", None),
        ("", None),
        (42, None),
    ],
)
def test_email_is_trimmed_lowercased_or_none(value: object, expected: str | None) -> None:
    assert normalize_email(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15088888888", "+15088888888"),
        ("+1 (508) 888-8888", "+15088888888"),
        ("447911123456", "+447911123456"),
        ("0044 7911 123456", "+447911123456"),
        (8613800138000, "+8613800138000"),
        ("12345", None),
        ("call me", None),
        (None, None),
    ],
)
def test_phone_becomes_e164_when_it_parses(value: object, expected: str | None) -> None:
    assert normalize_phone(value) == expected


def test_names_split_on_the_first_space() -> None:
    assert split_name("Jane Doe") == ("Jane", "Doe")
    assert split_name("  Mary   Ann Smith ") == ("Mary", "Ann Smith")
    assert split_name("Cher") == ("Cher", None)


def test_explicit_first_and_last_name_answers_win() -> None:
    lead = parse_entry(
        {
            "id": 1,
            "changes": [
                {"field": "First Name", "value": "Ada"},
                {"field": "last-name", "value": "Lovelace"},
            ],
        }
    )
    assert (lead.name, lead.first_name, lead.last_name) == ("Ada Lovelace", "Ada", "Lovelace")


def test_a_bad_email_is_none_and_kept_verbatim_in_the_answers() -> None:
    answers = [
        {"field": "email", "value": "jane at example"},
        {"field": "work_email", "value": "Jane@Corp.example"},
        {"field": "phone_number", "value": "not a phone"},
    ]
    lead = ParsedLead.from_answers(
        tiktok_lead_id="1", attribution=Attribution(), answers=answers, raw={}
    )
    assert lead.email == "jane@corp.example"
    assert lead.phone is None
    assert lead.answers == answers


def test_text_postgresql_refuses_is_replaced_and_big_numbers_kept_as_text() -> None:
    body = (
        b'{"object": 1, "entry": [{"id": 1, "page_name": "A\\u0000B", "changes": ['
        b'{"field": "note", "value": "x\\ud800y"}, {"field": "n", "value": 9007199254740993}]}]}'
    )
    [lead] = parse_delivery(body).leads
    assert lead.attribution.form_name == "A\ufffdB"
    assert lead.answers == [
        {"field": "note", "value": "x\ufffdy"},
        {"field": "n", "value": "9007199254740993"},
    ]


def test_labels_are_cut_to_their_column() -> None:
    lead = parse_entry({"id": 1, "campaign_name": "c" * 1000})
    assert lead.attribution.campaign_name == "c" * 255


def test_other_objects_are_ignored() -> None:
    parsed = parse_delivery(b'{"object": 2, "entry": [{"id": 1}]}')
    assert parsed.kind == "ignored"
    assert parsed.leads == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not valid UTF-8 JSON"),
        (b"\xff\xfe", "not valid UTF-8 JSON"),
        (b'{"object": 1, "entry": [{"id": NaN}]}', "not valid UTF-8 JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"entry": []}', "object is missing"),
        (b'{"object": 1}', "entry is missing"),
        (b'{"object": 1, "entry": {"id": 1}}', "entry is missing or not a list"),
        (b'{"object": 1, "entry": [{"page_id": 1}, "x"]}', "no usable entry"),
    ],
)
def test_bodies_that_can_never_be_used_are_malformed(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedDelivery, match=reason):
        parse_delivery(body)


def test_a_batch_keeps_its_good_entries_and_names_the_bad_ones() -> None:
    parsed = parse_delivery(b'{"object": 1, "entry": [{"page_id": 5}, {"id": 2}, 7]}')
    assert [lead.tiktok_lead_id for lead in parsed.leads] == ["2"]
    assert parsed.entry_count == 3
    assert parsed.skipped == ["entry 0: id is missing", "entry 2: not a JSON object"]
