"""The emulator's TikTok for Business world is set up, and goes wrong, through its control API.

Tests (and developers) choose the advertisers and forms TikTok offers, the answers of the
leads it keeps, how many forms a page holds, drop a subscription as TikTok does silently,
and inject faults limited to one advertiser or one lead region, faults that strike after the
endpoint acted (the answer is lost, the effect stays), an unreadable export file and an
export task that does not move on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from tests.test_sandbox_business import (
    ACME,
    ACME_EN_FORM,
    ACME_ES_FORM,
    APP_ID,
    HOOK,
    REDIRECT,
    SECRET,
    SOLAR,
    FakeClock,
    call,
    client_for,
    consent,
    create_leads,
    csv_rows,
    download,
    exchange,
    listed_subscriptions,
    login,
    make_emulator,
    read_consent,
    redirect_query,
    run_task,
    subscribe,
)

CONTROL = "/_control/business"
SHOP = "7131999000000000001"
SHOP_FORM = "7100999000000000001"
SHOP_FORM_ES = "7100999000000000002"
ONE_SHOP = {
    "advertisers": [
        {
            "advertiser_id": SHOP,
            "advertiser_name": "Corner Shop",
            "forms": [
                {"page_id": SHOP_FORM, "title": "Get a quote", "create_time": 1_767_323_045},
                {"page_id": SHOP_FORM_ES, "title": "Pide presupuesto", "language": "es"},
            ],
        }
    ]
}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_emulator(FakeClock())) as client:
        yield client


async def control(http: httpx.AsyncClient, method: str, path: str, body: object = None) -> Any:
    response = await http.request(method, f"{CONTROL}/{path}", json=body)
    assert response.is_success, response.text
    return response.json()


async def fault(http: httpx.AsyncClient, **spec: Any) -> None:
    await control(http, "POST", "faults", spec)


def forms_params(advertiser_id: str = ACME, **extra: str) -> dict[str, str]:
    return {"advertiser_id": advertiser_id, "business_type": "LEAD_GEN"} | extra


# --- the world ----------------------------------------------------------------------------------


async def test_advertisers_and_forms_can_be_replaced_and_a_reset_brings_the_seed_back(
    http: httpx.AsyncClient,
) -> None:
    listed = await control(http, "PUT", "advertisers", ONE_SHOP)

    (shop,) = listed["advertisers"]
    assert (shop["advertiser_id"], shop["advertiser_name"]) == (SHOP, "Corner Shop")
    assert [(f["page_id"], f["language"], f["leads"]) for f in shop["forms"]] == [
        (SHOP_FORM, "en", 0),
        (SHOP_FORM_ES, "es", 0),
    ]
    page = await http.get("/portal/auth", params={"app_id": APP_ID, "redirect_uri": REDIRECT})
    assert read_consent(page.text).advertisers == [SHOP]
    token = await login(http)
    forms = (await call(http, "GET", "page/get/", token, params=forms_params(SHOP)))["data"]
    assert [(f["page_id"], f["title"]) for f in forms["list"]] == [
        (int(SHOP_FORM), "Get a quote"),
        (int(SHOP_FORM_ES), "Pide presupuesto"),
    ]
    assert forms["list"][0]["create_time"] == "2026-01-02 03:04:05"

    await http.post("/_control/reset")
    seeded = (await control(http, "GET", "advertisers"))["advertisers"]
    assert [a["advertiser_id"] for a in seeded[:2]] == [ACME, SOLAR]


@pytest.mark.parametrize(
    "world",
    [
        pytest.param({"advertisers": [ONE_SHOP["advertisers"][0]] * 2}, id="same-advertiser"),
        pytest.param(
            {
                "advertisers": [
                    ONE_SHOP["advertisers"][0],
                    ONE_SHOP["advertisers"][0] | {"advertiser_id": "7131999000000000002"},
                ]
            },
            id="same-form",
        ),
        pytest.param({"advertisers": [{"advertiser_id": "12x", "advertiser_name": "A"}]}, id="id"),
    ],
)
async def test_advertiser_and_form_ids_must_be_unique_digits(
    http: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    assert (await http.put(f"{CONTROL}/advertisers", json=world)).status_code == 422


async def test_a_user_without_advertisers_approves_with_none_and_gets_a_token_for_none(
    http: httpx.AsyncClient,
) -> None:
    await control(http, "PUT", "advertisers", {"advertisers": []})

    query = redirect_query(await consent(http))
    body = await exchange(http, query["auth_code"])

    assert body["code"] == 0, body
    assert body["data"]["advertiser_ids"] == []


async def test_with_advertisers_to_choose_from_approving_none_is_refused(
    http: httpx.AsyncClient,
) -> None:
    assert (await consent(http, advertisers=[])).status_code == 400


async def test_leads_can_carry_chosen_answers_and_the_others_are_generated(
    http: httpx.AsyncClient,
) -> None:
    token = await login(http)
    answers = {"name": "Juan Pérez", "email": "juan@example.es", "phone_number": ""}
    created = await create_leads(
        http, page_id=ACME_ES_FORM, region="us", deliver=False, answers=answers
    )
    task_id = await run_task(http, token, page_id=ACME_ES_FORM, region="us")

    rows = csv_rows((await download(http, token, task_id, region="us")).content)

    (row,) = [row for row in rows if created["lead_ids"][0] in row[0]]
    assert row[10:13] == ["Juan Pérez", "juan@example.es", ""]
    assert row[13], "the custom question is answered"


async def test_an_answer_to_a_question_the_form_lacks_is_refused(http: httpx.AsyncClient) -> None:
    spec = {"page_id": ACME_EN_FORM, "answers": {"gender": "Female"}}

    assert (await http.post(f"{CONTROL}/leads", json=spec)).status_code == 422


async def test_forms_come_in_smaller_pages_than_asked_until_a_reset(
    http: httpx.AsyncClient,
) -> None:
    token = await login(http)
    assert await control(http, "PATCH", "paging", {"forms_page_size": 1}) == {"forms_page_size": 1}

    first = await call(http, "GET", "page/get/", token, params=forms_params(page_size="50"))
    second = await call(
        http, "GET", "page/get/", token, params=forms_params(page_size="50", page="2")
    )

    assert first["data"]["page_info"] == {
        "page": 1,
        "page_size": 1,
        "total_number": 2,
        "total_page": 2,
    }
    assert [f["page_id"] for f in first["data"]["list"] + second["data"]["list"]] == [
        int(ACME_EN_FORM),
        int(ACME_ES_FORM),
    ]
    await http.post("/_control/reset")
    assert await control(http, "GET", "paging") == {"forms_page_size": 100}


# --- subscriptions ------------------------------------------------------------------------------


async def test_a_dropped_subscription_is_neither_listed_nor_delivered_to(
    http: httpx.AsyncClient,
) -> None:
    token = await login(http)
    dropped = await subscribe(http, token)
    kept = await subscribe(http, token, page_id=ACME_EN_FORM)

    assert await control(http, "POST", f"subscriptions/{dropped}/drop") == {
        "subscription_id": dropped
    }
    with respx.mock:
        respx.post(HOOK).respond(200)
        created = await create_leads(http, advertiser_id=ACME, page_id=ACME_EN_FORM)

    assert [s["subscription_id"] for s in await listed_subscriptions(http)] == [int(kept)]
    assert [d["subscription_id"] for d in created["deliveries"]] == [kept]
    states = (await control(http, "GET", "subscriptions"))["subscriptions"]
    assert [(s["live"], s["dropped"], s["token_revoked"]) for s in states] == [
        (False, True, False),
        (True, False, False),
    ]
    assert (await http.post(f"{CONTROL}/subscriptions/7/drop")).status_code == 404


async def test_a_share_of_lead_webhooks_can_be_dropped_and_only_the_export_holds_them(
    http: httpx.AsyncClient,
) -> None:
    token = await login(http)
    await subscribe(http, token)
    assert await control(http, "PATCH", "webhooks", {"drop_share": 0.2}) == {
        "drop_share": 0.2,
        "dropped_lead_ids": [],
    }
    with respx.mock:
        hook = respx.post(HOOK).respond(200)
        created = await create_leads(http, advertiser_id=ACME, page_id=ACME_EN_FORM, count=10)
        redelivered = await control(http, "POST", "deliveries/redeliver")

    dropped = created["dropped"]
    assert len(dropped) == 2  # one in five, deterministically
    [delivery] = created["deliveries"]
    assert sorted(delivery["lead_ids"]) == sorted(set(created["lead_ids"]) - set(dropped))
    assert [d["lead_ids"] for d in redelivered["deliveries"]] == [delivery["lead_ids"]]
    assert hook.call_count == 2
    assert (await control(http, "GET", "webhooks"))["dropped_lead_ids"] == dropped
    export = await download(http, token, await run_task(http, token))
    exported = {row[0].strip("'=\"") for row in csv_rows(export.content)[1:]}
    assert set(dropped) <= exported
    assert (await http.patch(f"{CONTROL}/webhooks", json={"drop_share": 1.5})).status_code == 422


# --- faults -------------------------------------------------------------------------------------


async def test_a_fault_can_be_limited_to_one_advertiser(http: httpx.AsyncClient) -> None:
    token = await login(http)
    await fault(http, endpoint="page_get", kind="error_code", code=40100, advertiser_id=SOLAR)

    acme = await call(http, "GET", "page/get/", token, params=forms_params(ACME))
    solar = await call(http, "GET", "page/get/", token, params=forms_params(SOLAR))

    assert (acme["code"], solar["code"]) == (0, 40100)
    pending = (await control(http, "GET", "faults"))["pending"]
    assert pending == []


async def test_a_fault_can_be_limited_to_one_lead_region(http: httpx.AsyncClient) -> None:
    token = await login(http)
    await fault(http, endpoint="lead_task", kind="error_code", code=40001, region="eu")
    ids = {"advertiser_id": ACME, "page_id": ACME_EN_FORM}

    default = await call(http, "POST", "page/lead/task/", token, json=ids)
    us = await call(http, "POST", "page/lead/task/", token, region="us", json=ids)
    eu = await call(http, "POST", "page/lead/task/", token, region="eu", json=ids)

    assert (default["code"], us["code"], eu["code"]) == (0, 0, 40001)


async def test_a_fault_after_the_endpoint_keeps_its_effect_and_loses_its_answer(
    http: httpx.AsyncClient,
) -> None:
    token = await login(http)
    await fault(http, endpoint="subscribe", kind="error_code", code=50000, after=True)

    lost = await call(
        http,
        "POST",
        "subscription/subscribe/",
        json={
            "app_id": APP_ID,
            "secret": SECRET,
            "subscribe_entity": "LEAD",
            "callback_url": HOOK,
            "subscription_detail": {"access_token": token, "advertiser_id": ACME},
        },
    )

    assert (lost["code"], lost["data"]) == (50000, {})
    (made,) = await listed_subscriptions(http)
    assert made["callback_url"] == HOOK


async def test_a_fault_after_an_endpoint_that_failed_still_replaces_its_answer(
    http: httpx.AsyncClient,
) -> None:
    await fault(http, endpoint="page_get", kind="http_503", after=True)

    response = await http.get("/open_api/v1.3/page/get/", params=forms_params())

    assert response.status_code == 503


async def test_a_corrupt_export_file_is_served_as_a_csv(http: httpx.AsyncClient) -> None:
    token = await login(http)
    task_id = await run_task(http, token)
    await fault(http, endpoint="lead_download", kind="corrupt_file")

    corrupt = await download(http, token, task_id)
    intact = await download(http, token, task_id)

    assert corrupt.status_code == 200
    assert corrupt.headers["content-type"].startswith("text/csv")
    assert corrupt.content.startswith(b"\xff\xfe")
    assert b"lead_id" not in corrupt.content
    assert intact.content.startswith(b"\xef\xbb\xbflead_id,")


async def test_a_stalled_task_does_not_move_on_until_the_fault_is_used_up(
    http: httpx.AsyncClient,
) -> None:
    token = await login(http)
    await fault(http, endpoint="lead_task", kind="task_stalled", count=2)
    ids = {"advertiser_id": ACME, "page_id": ACME_EN_FORM}
    task_id = (await call(http, "POST", "page/lead/task/", token, json=ids))["data"]["task_id"]

    statuses = [
        (await call(http, "POST", "page/lead/task/", token, json=ids | {"task_id": task_id}))[
            "data"
        ]["status"]
        for _ in range(5)
    ]

    assert statuses == ["CREATED", "CREATED", "CREATED", "RUNNING", "SUCCEED"]
