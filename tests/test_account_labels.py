"""The CRM's own labels on an account: `metadata` (a small, bounded JSON object) and
`external_ref` (its id for a brand or team), set on create or PATCH, returned, and
`external_ref` filterable on the list."""

from __future__ import annotations

import pytest

API = "/api/integrations/accounts/"
LABELS = {"metadata": {"brand_id": "b-17", "team": "EMEA", "priority": 2, "vip": True}}


async def _create(client, auth, name: str = "Brand", **fields: object) -> dict:  # type: ignore[no-untyped-def]
    body = {"platform": "tiktok", "name": name} | fields
    response = await client.post(API, json=body, headers=auth())
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_labels_are_set_on_create_and_returned_everywhere(client, auth) -> None:
    created = await _create(client, auth, external_ref="brand-17", **LABELS)
    assert created["external_ref"] == "brand-17"
    assert created["metadata"] == LABELS["metadata"]
    read = (await client.get(f"{API}{created['id']}/", headers=auth())).json()
    listed = (await client.get(API, headers=auth())).json()["items"]
    for account in (read, listed[0]):
        assert account["external_ref"] == "brand-17"
        assert account["metadata"] == LABELS["metadata"]


async def test_an_account_without_labels_has_nulls(client, auth) -> None:
    created = await _create(client, auth)
    assert (created["metadata"], created["external_ref"]) == (None, None)


async def test_the_list_filters_by_external_ref(client, auth) -> None:
    await _create(client, auth, "a", external_ref="team-a")
    await _create(client, auth, "b", external_ref="team-b")
    await _create(client, auth, "a2", external_ref="team-a")
    await _create(client, auth, "none")
    team_a = await client.get(API, params={"external_ref": "team-a"}, headers=auth())
    assert sorted(item["name"] for item in team_a.json()["items"]) == ["a", "a2"]
    paged = await client.get(API, params={"external_ref": "team-a", "limit": 1}, headers=auth())
    cursor = paged.json()["next_cursor"]
    rest = await client.get(
        API, params={"external_ref": "team-a", "limit": 1, "cursor": cursor}, headers=auth()
    )
    names = [paged.json()["items"][0]["name"], rest.json()["items"][0]["name"]]
    assert sorted(names) == ["a", "a2"]
    assert rest.json()["next_cursor"] is None
    other = await client.get(API, params={"external_ref": "team-a"}, headers=auth("other"))
    assert other.json()["items"] == []


async def test_patch_changes_only_what_it_sends(client, auth) -> None:
    created = await _create(client, auth, external_ref="r1", **LABELS)
    url = f"{API}{created['id']}/"
    relabelled = await client.patch(url, json={"external_ref": "r2"}, headers=auth())
    assert relabelled.status_code == 200
    assert relabelled.json()["external_ref"] == "r2"
    assert relabelled.json()["metadata"] == LABELS["metadata"]
    assert relabelled.json()["name"] == "Brand"

    replaced = await client.patch(url, json={"metadata": {"only": "this"}}, headers=auth())
    assert replaced.json()["metadata"] == {"only": "this"}  # replaced whole, not merged
    cleared = await client.patch(url, json={"metadata": None, "external_ref": None}, headers=auth())
    assert (cleared.json()["metadata"], cleared.json()["external_ref"]) == (None, None)
    renamed = await client.patch(url, json={"name": "New name"}, headers=auth())
    assert renamed.json()["name"] == "New name"

    logs = (await client.get(f"{url}logs/", headers=auth())).json()["items"]
    events = [(entry["event"], (entry.get("data") or {}).get("fields")) for entry in logs]
    assert events[:4] == [
        ("account.renamed", None),
        ("account.labels_changed", ["external_ref", "metadata"]),
        ("account.labels_changed", ["metadata"]),
        ("account.labels_changed", ["external_ref"]),
    ]


@pytest.mark.parametrize("body", [{}, {"name": None}, {"name": "  "}, {"extra": 1}])
async def test_a_patch_that_changes_nothing_or_clears_the_name_is_a_422(
    client, auth, body: dict
) -> None:
    created = await _create(client, auth)
    response = await client.patch(f"{API}{created['id']}/", json=body, headers=auth())
    assert response.status_code == 422, body
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{i}": i for i in range(33)},  # more than 32 keys
        {"k" * 41: 1},  # a key longer than 40
        {"": 1},
        {"with space": 1},
        {"k": "v" * 81},  # a value longer than 80
        {"k": "0" * 81},  # not read as the number 0 either
        {"k": {"nested": 1}},
        {"k": [1, 2]},
        {"k": 1.5},
        {"k": None},
        {"k": 2**53},  # not exact in JavaScript
        {"k": "nul\u0000"},
        {"k": "bell\u0007"},
        ["not", "an", "object"],
        "text",
    ],
)
async def test_metadata_out_of_bounds_is_a_422_and_nothing_is_stored(
    client, auth, metadata: object
) -> None:
    response = await client.post(
        API, json={"platform": "tiktok", "name": "x", "metadata": metadata}, headers=auth()
    )
    assert response.status_code == 422, metadata
    assert response.json()["error"]["code"] == "validation_error"
    assert (await client.get(API, headers=auth())).json()["items"] == []


async def test_metadata_at_its_bounds_is_stored_whole(client, auth) -> None:
    largest = {f"{i:02d}" + "k" * 38: "v" * 80 for i in range(32)}
    created = await _create(client, auth, metadata=largest)
    assert created["metadata"] == largest
    edge = {"min": -(2**53 - 1), "max": 2**53 - 1, "no": False, "unicode": "José 🎯"}
    assert (await _create(client, auth, metadata=edge))["metadata"] == edge


async def test_metadata_values_keep_their_json_types(client, auth) -> None:
    sent = {"text_one": "1", "text_yes": "yes", "one": 1, "integral": 2.0, "yes": True}
    created = await _create(client, auth, metadata=sent)
    assert created["metadata"] == {
        "text_one": "1",  # a string stays a string, never read as a number
        "text_yes": "yes",
        "one": 1,
        "integral": 2,  # JSON's 2.0 is the integer 2
        "yes": True,
    }
    assert type(created["metadata"]["one"]) is int
    assert type(created["metadata"]["yes"]) is bool


@pytest.mark.parametrize("ref", ["", "x" * 256, "tab\tref", "   "])
async def test_a_bad_external_ref_is_a_422(client, auth, ref: str) -> None:
    response = await client.post(
        API, json={"platform": "tiktok", "name": "x", "external_ref": ref}, headers=auth()
    )
    assert response.status_code == 422
    too_long = await client.get(API, params={"external_ref": "x" * 256}, headers=auth())
    assert too_long.status_code == 422
