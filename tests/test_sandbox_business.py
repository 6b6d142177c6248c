"""The TikTok for Business side of the emulator reproduces TIKTOK_API.md §4 and its quirks.

Advertiser consent, single-use auth codes, the HTTP-200 error envelope, forms, the export
task and its file (BOM, localized headers, Excel-protected ids, zip, regions, expiry),
subscriptions (dying silently with their token), and signed lead webhooks with bare ids.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
import zipfile
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from fastapi import FastAPI

from app.tiktok.business import TikTokBusinessClient
from app.tiktok.errors import TikTokReauthRequired
from tiktok_emulator import EmulatorConfig, EmulatorState, create_emulator, sign_webhook

BASE = "http://emulator.test"
API = "/open_api/v1.3"
REDIRECT = "https://crm.example/oauth/tiktok-ads/callback"
APP_ID = "sandbox-business-app"
SECRET = "sandbox-business-secret"
HOOK = "https://crm.example/webhooks/tiktok-leadgen/"
ACME = "7131000000000000101"
SOLAR = "7131001000000000202"
ACME_EN_FORM = "7100000000000000001"
ACME_ES_FORM = "7100000000010000020"
BASE_HEADERS = (
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


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class _ConsentForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: dict[str, str] = {}
        self.advertisers: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if "id" in attr:
            self.ids.add(attr["id"] or "")
        if tag == "form":
            self.action = attr["action"] or ""
        if tag == "input" and attr.get("type") == "hidden":
            self.hidden[attr["name"] or ""] = attr.get("value") or ""
        if tag == "input" and attr.get("name") == "advertiser_id":
            self.advertisers.append(attr["value"] or "")


def read_consent(html: str) -> _ConsentForm:
    reader = _ConsentForm()
    reader.feed(html)
    return reader


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {name: values[0] for name, values in parse_qs(location.query).items()}


async def consent(
    http: httpx.AsyncClient, decision: str = "approve", advertisers: list[str] | None = None
) -> httpx.Response:
    params = {"app_id": APP_ID, "state": "st-9", "redirect_uri": REDIRECT}
    page = await http.get("/portal/auth", params=params)
    assert page.status_code == 200, page.text
    form = read_consent(page.text)
    ticked = form.advertisers if advertisers is None else advertisers
    return await http.post(
        form.action, data={**form.hidden, "decision": decision, "advertiser_id": ticked}
    )


async def exchange(http: httpx.AsyncClient, code: str) -> dict[str, Any]:
    response = await http.post(
        f"{API}/oauth2/access_token/", json={"app_id": APP_ID, "secret": SECRET, "auth_code": code}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def login(http: httpx.AsyncClient, advertisers: list[str] | None = None) -> str:
    code = redirect_query(await consent(http, advertisers=advertisers))["auth_code"]
    body = await exchange(http, code)
    assert body["code"] == 0, body
    token: str = body["data"]["access_token"]
    return token


async def call(
    http: httpx.AsyncClient,
    method: str,
    path: str,
    token: str | None = None,
    *,
    region: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    headers = {}
    if token is not None:
        headers["Access-Token"] = token
    if region is not None:
        headers["x-lead-region"] = region
    response = await http.request(method, f"{API}/{path}", headers=headers, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "request_id", "data"}
    return body


async def run_task(
    http: httpx.AsyncClient, token: str, page_id: str = ACME_EN_FORM, region: str | None = None
) -> str:
    ids = {"advertiser_id": ACME, "page_id": page_id}
    created = await call(http, "POST", "page/lead/task/", token, region=region, json=ids)
    assert created["code"] == 0, created
    task_id: str = created["data"]["task_id"]
    statuses = [
        (
            await call(
                http,
                "POST",
                "page/lead/task/",
                token,
                region=region,
                json=ids | {"task_id": task_id},
            )
        )["data"]["status"]
        for _ in range(4)
    ]
    assert statuses == ["CREATED", "RUNNING", "SUCCEED", "SUCCEED"]
    return task_id


async def download(
    http: httpx.AsyncClient, token: str, task_id: str, region: str | None = None
) -> httpx.Response:
    headers = {"Access-Token": token} | ({"x-lead-region": region} if region else {})
    return await http.get(
        f"{API}/page/lead/task/download/",
        params={"advertiser_id": ACME, "task_id": task_id},
        headers=headers,
    )


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbflead_id,")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def subscribe(
    http: httpx.AsyncClient, token: str, page_id: str | None = None, url: str = HOOK
) -> str:
    detail = {"access_token": token, "advertiser_id": ACME, "lead_source": "INSTANT_FORM"}
    if page_id is not None:
        detail["page_id"] = page_id
    body = await call(
        http,
        "POST",
        "subscription/subscribe/",
        json={
            "app_id": APP_ID,
            "secret": SECRET,
            "subscribe_entity": "LEAD",
            "callback_url": url,
            "subscription_detail": detail,
        },
    )
    assert body["code"] == 0, body
    return str(body["data"]["subscription_id"])


async def listed_subscriptions(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    params = {"app_id": APP_ID, "secret": SECRET, "subscribe_entity": "LEAD", "advertiser_id": ACME}
    body = await call(http, "GET", "subscription/get/", params=params)
    assert body["code"] == 0, body
    items: list[dict[str, Any]] = body["data"]["list"]
    return items


async def create_leads(http: httpx.AsyncClient, **spec: Any) -> dict[str, Any]:
    response = await http.post("/_control/business/leads", json=spec)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


def make_emulator(clock: FakeClock, **config: Any) -> FastAPI:
    app = create_emulator(EmulatorConfig(business_redirect_uris=[REDIRECT], **config))
    state: EmulatorState = app.state.emulator
    state.clock = clock
    return app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def http(clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_emulator(clock)) as client:
        yield client


@pytest.fixture
def hook() -> respx.MockRouter:
    with respx.mock(assert_all_called=False) as router:
        router.post(HOOK).respond(200)
        yield router


# --- consent ------------------------------------------------------------------------------------


async def test_consent_page_shows_seeded_advertisers_with_19_digit_ids(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get(
        "/portal/auth", params={"app_id": APP_ID, "state": "s", "redirect_uri": REDIRECT}
    )

    form = read_consent(page.text)
    assert {"approve", "deny"} <= form.ids
    assert 2 <= len(form.advertisers) <= 3
    assert all(re.fullmatch(r"[0-9]{19}", a) for a in form.advertisers)
    assert "Acme Outdoor" in page.text


async def test_approve_redirects_with_auth_code_and_code_and_state(
    http: httpx.AsyncClient,
) -> None:
    query = redirect_query(await consent(http))

    assert set(query) == {"auth_code", "code", "state"}
    assert query["auth_code"] == query["code"]
    assert query["state"] == "st-9"


async def test_deny_redirects_with_access_denied_and_no_code(http: httpx.AsyncClient) -> None:
    assert redirect_query(await consent(http, "deny")) == {
        "error": "access_denied",
        "state": "st-9",
    }


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"app_id": "someone-else", "redirect_uri": REDIRECT}, id="unknown-app"),
        pytest.param({"app_id": APP_ID, "redirect_uri": "https://evil.example/cb"}, id="uri"),
        pytest.param({"app_id": APP_ID}, id="no-uri"),
    ],
)
async def test_invalid_portal_requests_get_an_error_page_not_a_redirect(
    http: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await http.get("/portal/auth", params=params)

    assert response.status_code == 400
    assert "location" not in response.headers


async def test_auth_codes_are_single_use(http: httpx.AsyncClient) -> None:
    code = redirect_query(await consent(http))["auth_code"]

    first = await exchange(http, code)
    second = await exchange(http, code)

    assert first["code"] == 0
    assert first["data"]["advertiser_ids"] == [ACME, SOLAR, "7131002000000000303"]
    assert second["code"] == 40002
    assert second["data"] == {}
    assert "used" in second["message"]


async def test_auth_codes_expire_after_an_hour(http: httpx.AsyncClient, clock: FakeClock) -> None:
    code = redirect_query(await consent(http))["auth_code"]
    clock.now += 3600

    assert (await exchange(http, code))["code"] == 40002


async def test_exchange_with_a_wrong_secret_is_refused_inside_http_200(
    http: httpx.AsyncClient,
) -> None:
    code = redirect_query(await consent(http))["auth_code"]
    response = await http.post(
        f"{API}/oauth2/access_token/", json={"app_id": APP_ID, "secret": "nope", "auth_code": code}
    )

    assert response.status_code == 200
    assert response.json()["code"] == 40002


# --- advertisers and forms ----------------------------------------------------------------------


async def test_token_lists_its_advertisers_with_bare_19_digit_ids(
    http: httpx.AsyncClient,
) -> None:
    token = await login(http)

    response = await http.get(
        f"{API}/oauth2/advertiser/get/",
        params={"app_id": APP_ID, "secret": SECRET},
        headers={"Access-Token": token},
    )

    assert f'"advertiser_id":{ACME},'.encode() in response.content
    names = [item["advertiser_name"] for item in response.json()["data"]["list"]]
    assert names[0] == "Acme Outdoor (sandbox)"


async def test_forms_of_an_advertiser_are_paged(http: httpx.AsyncClient) -> None:
    token = await login(http)
    params = {"advertiser_id": ACME, "business_type": "LEAD_GEN", "page": "1", "page_size": "1"}

    first = await call(http, "GET", "page/get/", token, params=params)
    second = await call(http, "GET", "page/get/", token, params=params | {"page": "2"})

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
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", first["data"]["list"][0]["create_time"])


async def test_an_advertiser_left_unticked_is_no_permission(http: httpx.AsyncClient) -> None:
    token = await login(http, advertisers=[SOLAR])
    params = {"advertiser_id": ACME, "business_type": "LEAD_GEN"}

    body = await call(http, "GET", "page/get/", token, params=params)

    assert body["code"] == 40001


@pytest.mark.parametrize("token", [None, "not-a-token"], ids=["missing", "unknown"])
async def test_calls_without_a_valid_access_token_are_40105(
    http: httpx.AsyncClient, token: str | None
) -> None:
    params = {"advertiser_id": ACME, "business_type": "LEAD_GEN"}

    assert (await call(http, "GET", "page/get/", token, params=params))["code"] == 40105


async def test_a_revoked_token_is_40105(http: httpx.AsyncClient) -> None:
    token = await login(http)
    revoked = await call(
        http,
        "POST",
        "oauth2/revoke_token/",
        json={"app_id": APP_ID, "secret": SECRET, "access_token": token},
    )
    params = {"advertiser_id": ACME, "business_type": "LEAD_GEN"}

    assert revoked["code"] == 0
    assert (await call(http, "GET", "page/get/", token, params=params))["code"] == 40105


# --- the export ---------------------------------------------------------------------------------


async def test_export_csv_has_bom_attribution_columns_and_english_questions(
    http: httpx.AsyncClient,
) -> None:
    token = await login(http)
    task_id = await run_task(http, token)

    response = await download(http, token, task_id)

    assert response.headers["content-type"].startswith("text/csv")
    rows = csv_rows(response.content)
    assert tuple(rows[0]) == (*BASE_HEADERS, "Name", "Email", "Phone number",
                              "What are you interested in?")  # fmt: skip
    assert len(rows) == 3  # the two seeded leads of the default region
    assert all(len(row) == len(rows[0]) for row in rows)


async def test_export_of_a_spanish_form_labels_questions_in_spanish(
    http: httpx.AsyncClient,
) -> None:
    token = await login(http)
    task_id = await run_task(http, token, page_id=ACME_ES_FORM)

    header = csv_rows((await download(http, token, task_id)).content)[0]

    assert header[len(BASE_HEADERS) :][:3] == [
        "Nombre completo",
        "Correo electrónico",
        "Número de teléfono",
    ]


async def test_export_protects_some_ids_the_excel_ways(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    token = await login(http)
    await create_leads(http, advertiser_id=ACME, page_id=ACME_EN_FORM, count=2, deliver=False)
    task_id = await run_task(http, token)

    rows = csv_rows((await download(http, token, task_id)).content)[1:]

    lead_ids = [row[0] for row in rows]
    assert re.fullmatch(r"\d{19}", lead_ids[0])
    assert re.fullmatch(r"'\d{19}", lead_ids[1])
    assert re.fullmatch(r'="\d{19}"', lead_ids[2])
    assert rows[0][2].startswith('="')
    assert rows[0][6].startswith("'")
    assert rows[0][8] == f'="{ACME_EN_FORM}"'


async def test_download_before_the_task_succeeded_is_refused(http: httpx.AsyncClient) -> None:
    token = await login(http)
    ids = {"advertiser_id": ACME, "page_id": ACME_EN_FORM}
    task_id = (await call(http, "POST", "page/lead/task/", token, json=ids))["data"]["task_id"]

    response = await download(http, token, task_id)

    assert response.status_code == 200
    assert response.json()["code"] == 40002


async def test_the_download_link_expires_ten_minutes_after_success(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    token = await login(http)
    task_id = await run_task(http, token)
    clock.now += 599
    assert (await download(http, token, task_id)).content.startswith(b"\xef\xbb\xbf")

    clock.now += 1

    expired = await download(http, token, task_id)
    assert expired.json()["code"] == 40002
    assert "expired" in expired.json()["message"]


async def test_an_export_above_the_threshold_is_a_zip_holding_the_csv(clock: FakeClock) -> None:
    async with client_for(make_emulator(clock, export_zip_threshold_bytes=200)) as http:
        token = await login(http)
        task_id = await run_task(http, token)
        response = await download(http, token, task_id)

    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        (name,) = archive.namelist()
        rows = csv_rows(archive.read(name))
    assert name.endswith(".csv")
    assert rows[0][0] == "lead_id"


@pytest.mark.parametrize("region", ["eu", "us"])
async def test_regional_leads_only_come_back_with_their_region_header(
    http: httpx.AsyncClient, region: str
) -> None:
    token = await login(http)
    created = await create_leads(
        http, advertiser_id=ACME, page_id=ACME_EN_FORM, region=region, deliver=False
    )

    default_rows = csv_rows((await download(http, token, await run_task(http, token))).content)
    task_id = await run_task(http, token, region=region)
    regional_rows = csv_rows((await download(http, token, task_id, region=region)).content)

    (new_id,) = created["lead_ids"]
    assert new_id not in str(default_rows)
    assert len(regional_rows) == 3  # one seeded lead of that region, and the new one
    assert new_id in str(regional_rows)
    # The task lives in its region: without the header it is not found.
    assert (await download(http, token, task_id)).json()["code"] == 40002


async def test_an_injected_task_failure_turns_the_poll_failed(http: httpx.AsyncClient) -> None:
    token = await login(http)
    fault = {"endpoint": "lead_task", "kind": "task_failed"}
    assert (await http.post("/_control/business/faults", json=fault)).status_code == 201
    ids = {"advertiser_id": ACME, "page_id": ACME_EN_FORM}
    task_id = (await call(http, "POST", "page/lead/task/", token, json=ids))["data"]["task_id"]

    polled = await call(http, "POST", "page/lead/task/", token, json=ids | {"task_id": task_id})

    assert polled["data"]["status"] == "FAILED"
    assert (await download(http, token, task_id)).json()["code"] == 40002


async def test_an_injected_rate_limit_is_an_error_code_inside_http_200(
    http: httpx.AsyncClient,
) -> None:
    token = await login(http)
    fault = {"endpoint": "page_get", "kind": "error_code", "code": 40100}
    await http.post("/_control/business/faults", json=fault)
    params = {"advertiser_id": ACME, "business_type": "LEAD_GEN"}

    assert (await call(http, "GET", "page/get/", token, params=params))["code"] == 40100
    assert (await call(http, "GET", "page/get/", token, params=params))["code"] == 0


# --- subscriptions ------------------------------------------------------------------------------


async def test_subscriptions_are_listed_and_removed(http: httpx.AsyncClient) -> None:
    token = await login(http)
    subscription_id = await subscribe(http, token, page_id=ACME_EN_FORM)

    (listed,) = await listed_subscriptions(http)
    removed = await call(
        http,
        "POST",
        "subscription/unsubscribe/",
        json={"app_id": APP_ID, "secret": SECRET, "subscription_id": subscription_id},
    )

    assert listed == {
        "subscription_id": int(subscription_id),
        "subscribe_entity": "LEAD",
        "callback_url": HOOK,
        "subscription_detail": {
            "advertiser_id": ACME,
            "lead_source": "INSTANT_FORM",
            "page_id": int(ACME_EN_FORM),
        },
    }
    assert removed["code"] == 0
    assert await listed_subscriptions(http) == []


async def test_subscriptions_die_silently_when_the_token_is_revoked(
    http: httpx.AsyncClient, hook: respx.MockRouter
) -> None:
    token = await login(http)
    await subscribe(http, token)
    await call(
        http,
        "POST",
        "oauth2/revoke_token/",
        json={"app_id": APP_ID, "secret": SECRET, "access_token": token},
    )

    created = await create_leads(http, advertiser_id=ACME)

    assert await listed_subscriptions(http) == []
    assert created["deliveries"] == []
    assert not hook.routes[0].called
    (dead,) = (await http.get("/_control/business/subscriptions")).json()["subscriptions"]
    assert (dead["live"], dead["token_revoked"], dead["unsubscribed"]) == (False, True, False)


async def test_an_advertiser_revoking_in_tiktok_kills_tokens_and_subscriptions(
    http: httpx.AsyncClient,
) -> None:
    token = await login(http)
    await subscribe(http, token)

    revoked = await http.post(f"/_control/business/advertisers/{ACME}/revoke")

    assert revoked.json() == {"advertiser_id": ACME, "revoked_tokens": 1}
    assert await listed_subscriptions(http) == []


# --- lead webhooks ------------------------------------------------------------------------------


async def test_a_lead_webhook_has_bare_ids_documented_fields_and_a_valid_signature(
    http: httpx.AsyncClient, hook: respx.MockRouter, clock: FakeClock
) -> None:
    token = await login(http)
    subscription_id = await subscribe(http, token)

    created = await create_leads(http, advertiser_id=ACME, page_id=ACME_ES_FORM)

    (lead_id,) = created["lead_ids"]
    assert created["deliveries"] == [
        {
            "subscription_id": subscription_id,
            "url": HOOK,
            "lead_ids": [lead_id],
            "status_code": 200,
            "error": None,
            "redelivery": False,
        }
    ]
    request = hook.routes[0].calls.last.request
    raw = request.content
    assert f'"id":{lead_id},'.encode() in raw
    assert f'"advertiser_id":{ACME},'.encode() in raw
    assert f'"page_id":{ACME_ES_FORM},'.encode() in raw
    expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert request.headers["X-Open-Signature"] == expected
    assert "TikTok-Signature" not in request.headers
    payload = json.loads(raw)
    assert (payload["object"], payload["time"]) == (1, int(clock.now))
    (entry,) = payload["entry"]
    assert entry["id"] == int(lead_id)
    assert entry["lead_source"] == "INSTANT_FORM"
    assert entry["advertiser_name"] == "Acme Outdoor (sandbox)"
    assert entry["page_name"] == "Oferta de primavera"
    assert all(isinstance(entry[key], int) for key in ("campaign_id", "adgroup_id", "ad_id"))
    fields = [change["field"] for change in entry["changes"]]
    assert fields == ["name", "email", "phone_number", "¿Cuándo prefieres que te llamemos?"]


async def test_webhooks_can_be_signed_the_login_kit_way_or_not_at_all(
    clock: FakeClock, hook: respx.MockRouter
) -> None:
    for mode in ("tiktok", "none"):
        async with client_for(make_emulator(clock, lead_signature=mode)) as http:
            await subscribe(http, await login(http))
            await create_leads(http, advertiser_id=ACME)
        request = hook.routes[0].calls.last.request
        if mode == "tiktok":
            signature = sign_webhook(SECRET, request.content, int(clock.now))
            assert request.headers["TikTok-Signature"] == signature
        else:
            assert "TikTok-Signature" not in request.headers
        assert "X-Open-Signature" not in request.headers


ARABIC_NAME = "محمد عبد الله"
SPANISH_NAME = "José Núñez Peña"
EMOJI_NAME = "Chris 🎯"


def escaped_body(raw: bytes) -> bytes:
    """The payload with non-ASCII characters as \\uXXXX, as TikTok may sign it (§5)."""
    return json.dumps(json.loads(raw), ensure_ascii=True, separators=(",", ":")).encode()


@pytest.mark.parametrize("name", [ARABIC_NAME, SPANISH_NAME, EMOJI_NAME])
async def test_a_lead_can_carry_an_arabic_accented_or_emoji_name_sent_as_raw_utf8(
    http: httpx.AsyncClient, hook: respx.MockRouter, name: str
) -> None:
    await subscribe(http, await login(http))

    await create_leads(http, advertiser_id=ACME, name=name)

    raw = hook.routes[0].calls.last.request.content
    assert name.encode() in raw
    (entry,) = json.loads(raw)["entry"]
    assert entry["changes"][0] == {"field": "name", "value": name}
    # The default signs the raw bytes.
    signature = hook.routes[0].calls.last.request.headers["X-Open-Signature"]
    assert signature == hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()


async def test_the_signing_mode_signs_the_unicode_escaped_payload_and_sends_raw_utf8(
    http: httpx.AsyncClient, clock: FakeClock, hook: respx.MockRouter
) -> None:
    await subscribe(http, await login(http))
    signing = "/_control/business/signing"
    assert (await http.get(signing)).json() == {"lead_signature": "open", "signature_form": "raw"}
    assert (await http.patch(signing, json={"signature_form": "hex"})).status_code == 422

    changed = await http.patch(signing, json={"signature_form": "unicode_escaped"})
    assert changed.json() == {"lead_signature": "open", "signature_form": "unicode_escaped"}
    await create_leads(http, advertiser_id=ACME, name=f"{ARABIC_NAME} {EMOJI_NAME}")

    request = hook.routes[0].calls.last.request
    raw = request.content
    assert f"{ARABIC_NAME} {EMOJI_NAME}".encode() in raw
    assert b"\\ud83c\\udfaf" in escaped_body(raw)
    signature = request.headers["X-Open-Signature"]
    assert signature == hmac.new(SECRET.encode(), escaped_body(raw), hashlib.sha256).hexdigest()
    assert signature != hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()

    # The Login Kit scheme over the escaped payload, for the redelivery of the same bytes.
    changed = await http.patch(signing, json={"lead_signature": "tiktok"})
    assert changed.json() == {"lead_signature": "tiktok", "signature_form": "unicode_escaped"}
    await http.post("/_control/business/deliveries/redeliver")
    again = hook.routes[0].calls.last.request
    assert again.content == raw
    expected = sign_webhook(SECRET, escaped_body(raw), int(clock.now))
    assert again.headers["TikTok-Signature"] == expected
    assert "X-Open-Signature" not in again.headers

    # A reset goes back to the configured mode.
    await http.post("/_control/reset")
    assert (await http.get(signing)).json() == {"lead_signature": "open", "signature_form": "raw"}


async def test_the_signing_form_can_be_configured(clock: FakeClock, hook: respx.MockRouter) -> None:
    app = make_emulator(clock, lead_signature_form="unicode_escaped")
    async with client_for(app) as http:
        await subscribe(http, await login(http))
        await create_leads(http, advertiser_id=ACME, page_id=ACME_ES_FORM)
    request = hook.routes[0].calls.last.request
    assert not request.content.isascii()
    expected = hmac.new(SECRET.encode(), escaped_body(request.content), hashlib.sha256)
    assert request.headers["X-Open-Signature"] == expected.hexdigest()


async def test_leads_are_batched_in_one_webhook_or_sent_one_by_one(
    http: httpx.AsyncClient, hook: respx.MockRouter
) -> None:
    await subscribe(http, await login(http))
    route = hook.routes[0]

    batched = await create_leads(http, advertiser_id=ACME, count=3, batch=True)
    entries = json.loads(route.calls.last.request.content)["entry"]
    single = await create_leads(http, advertiser_id=ACME, count=3, batch=False)

    assert [str(entry["id"]) for entry in entries] == batched["lead_ids"]
    assert len(batched["deliveries"]) == 1
    assert [d["lead_ids"] for d in single["deliveries"]] == [[i] for i in single["lead_ids"]]
    assert route.call_count == 4
    assert len(set(batched["lead_ids"] + single["lead_ids"])) == 6


async def test_generated_leads_have_realistic_varied_answers(http: httpx.AsyncClient) -> None:
    token = await login(http)
    await create_leads(http, advertiser_id=ACME, count=40, deliver=False)

    rows = csv_rows((await download(http, token, await run_task(http, token))).content)[1:]

    emails = [row[11] for row in rows]
    phones = [row[12] for row in rows]
    assert all("@" in email for email in emails)
    assert any(email != email.lower() for email in emails)
    assert any(phone.startswith("+") for phone in phones)
    assert any(phone.isdigit() for phone in phones)


async def test_a_form_subscription_only_receives_that_forms_leads(
    http: httpx.AsyncClient, hook: respx.MockRouter
) -> None:
    await subscribe(http, await login(http), page_id=ACME_ES_FORM)

    other_form = await create_leads(http, advertiser_id=ACME, page_id=ACME_EN_FORM)
    its_form = await create_leads(http, advertiser_id=ACME, page_id=ACME_ES_FORM)

    assert other_form["deliveries"] == []
    assert len(its_form["deliveries"]) == 1


async def test_redeliver_sends_the_last_webhook_again_byte_for_byte(
    http: httpx.AsyncClient, hook: respx.MockRouter
) -> None:
    await subscribe(http, await login(http))
    created = await create_leads(http, advertiser_id=ACME, count=2)
    route = hook.routes[0]

    response = await http.post("/_control/business/deliveries/redeliver")

    (delivery,) = response.json()["deliveries"]
    assert delivery["redelivery"] is True
    assert delivery["lead_ids"] == created["lead_ids"]
    first, second = route.calls
    assert first.request.content == second.request.content
    log = (await http.get("/_control/business/deliveries")).json()["deliveries"]
    assert [d["redelivery"] for d in log] == [False, True]


async def test_redeliver_before_any_delivery_is_404(http: httpx.AsyncClient) -> None:
    assert (await http.post("/_control/business/deliveries/redeliver")).status_code == 404


async def test_a_failed_delivery_is_reported_not_raised(http: httpx.AsyncClient) -> None:
    await subscribe(http, await login(http), url="http://127.0.0.1:9/unreachable")

    with respx.mock:
        respx.post("http://127.0.0.1:9/unreachable").mock(side_effect=httpx.ConnectError("no"))
        created = await create_leads(http, advertiser_id=ACME)

    (delivery,) = created["deliveries"]
    assert delivery["status_code"] is None
    assert "ConnectError" in delivery["error"]


async def test_a_mock_lead_is_delivered_and_one_per_form(
    http: httpx.AsyncClient, hook: respx.MockRouter
) -> None:
    token = await login(http)
    await subscribe(http, token)
    ids = {"advertiser_id": ACME, "page_id": ACME_EN_FORM}

    first = await call(http, "POST", "page/lead/mock/create/", token, json=ids)
    second = await call(http, "POST", "page/lead/mock/create/", token, json=ids)
    await call(http, "POST", "page/lead/mock/delete/", token, json=ids)
    third = await call(http, "POST", "page/lead/mock/create/", token, json=ids)

    assert (first["code"], second["code"], third["code"]) == (0, 40002, 0)
    assert hook.routes[0].call_count == 2
    (entry,) = json.loads(hook.routes[0].calls[0].request.content)["entry"]
    assert str(entry["id"]) == first["data"]["lead_id"]
    assert (entry["ad_id"], entry["campaign_id"]) == (0, 0)


async def test_control_lists_advertisers_with_their_forms(http: httpx.AsyncClient) -> None:
    await login(http)

    advertisers = (await http.get("/_control/business/advertisers")).json()["advertisers"]

    assert [a["advertiser_id"] for a in advertisers] == [ACME, SOLAR, "7131002000000000303"]
    assert [f["language"] for f in advertisers[0]["forms"]] == ["en", "es"]
    assert advertisers[0]["forms"][0]["leads"] == 4
    assert advertisers[0]["live_tokens"] == 1


async def test_reset_forgets_business_tokens_and_subscriptions(http: httpx.AsyncClient) -> None:
    token = await login(http)
    await subscribe(http, token)

    await http.post("/_control/reset")

    assert (await http.get("/_control/business/subscriptions")).json()["subscriptions"] == []
    params = {"advertiser_id": ACME, "business_type": "LEAD_GEN"}
    assert (await call(http, "GET", "page/get/", token, params=params))["code"] == 40105


# --- the real client against the emulator -------------------------------------------------------


async def test_the_business_client_speaks_the_emulators_wire_format(
    http: httpx.AsyncClient,
) -> None:
    client = TikTokBusinessClient(
        app_id=APP_ID,
        secret=SECRET,
        auth_url=f"{BASE}/portal/auth",
        api_base_url=f"{BASE}{API}",
        http=http,
        backoff_seconds=0,
    )
    code = redirect_query(await consent(http))["auth_code"]

    token = await client.exchange_auth_code(code)
    access = token.access_token.get_secret_value()
    advertisers = await client.advertisers(access)
    forms = await client.lead_forms(access, ACME)
    task_id = await client.create_lead_task(access, ACME, ACME_ES_FORM, region="eu")
    statuses = [
        await client.lead_task_status(access, ACME, ACME_ES_FORM, task_id, region="eu")
        for _ in range(3)
    ]
    content = await client.download_leads(access, ACME, task_id, region="eu")
    subscription_id = await client.subscribe_leads(access, ACME, HOOK, page_id=ACME_ES_FORM)
    subscriptions = await client.subscriptions(access, ACME)
    await client.unsubscribe(subscription_id)
    remaining = await client.subscriptions(access, ACME)
    await client.revoke(access)

    assert token.advertiser_ids[0] == ACME
    assert [a.advertiser_id for a in advertisers] == token.advertiser_ids
    assert [f.page_id for f in forms.forms] == [ACME_EN_FORM, ACME_ES_FORM]
    assert statuses == ["CREATED", "RUNNING", "SUCCEED"]
    assert len(csv_rows(content)) == 2
    assert [(s.subscription_id, s.page_id) for s in subscriptions] == [
        (subscription_id, ACME_ES_FORM)
    ]
    assert remaining == []
    with pytest.raises(TikTokReauthRequired):
        await client.advertisers(access)
