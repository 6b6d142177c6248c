"""Backfill of leads from TikTok's lead export: a job per account, run by a worker that
exports every form in every region and stores only the leads not stored yet (TikTok for
Business is the emulator, served in process: tests/ads_support.py; over real HTTP in
tests/e2e/test_ads_flow_http.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.ads.jobs import run_due_backfills
from app.ads.models import BackfillJob, BackfillStatus
from app.core.config import Settings
from app.core.db import session_scope, utcnow
from app.leads import service as leads
from app.leads.models import Lead, LeadSource
from app.leads.parsing import Attribution, ParsedLead
from tests.ads_support import (
    ACCOUNTS,
    ADVERTISER_A,
    FORM_B,
    FORM_EN,
    FORM_ES,
    EmulatedBusiness,
    ads_settings,
    connect_ads,
    create_account,
    emulated_business,
    log_entries,
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return ads_settings(database_url)


@pytest.fixture
async def business(settings: Settings) -> AsyncIterator[EmulatedBusiness]:
    async with emulated_business(settings) as emulated:
        yield emulated


@pytest.fixture(autouse=True)
async def exported(business: EmulatedBusiness) -> list[str]:
    """The leads TikTok keeps for the account's forms, which its export gives back (each in
    its region only): Jane's, John's, Emily's, Juan's and Wei's ids."""
    held = [
        (FORM_EN, None, "Jane Doe", "jane@example.com", "15088888888"),
        (FORM_EN, None, "John Smith", "john@example.com", "1508"),
        (FORM_EN, "eu", "Emily Clarke", "emily@example.co.uk", ""),
        (FORM_ES, "us", "Juan Pérez", "juan@example.es", "+34612345678"),
        (FORM_B, None, "Wei Chen", "wei@example.com", ""),
    ]
    lead_ids = []
    for form, region, name, email, phone in held:
        lead_ids += await business.add_leads(
            form, region=region, name=name, email=email, phone_number=phone
        )
    return lead_ids


async def _start(client, auth, account_id: str, body: dict | None = None) -> dict:
    response = await client.post(
        f"{ACCOUNTS}{account_id}/leads/backfill/", json=body, headers=auth()
    )
    assert response.status_code == 202, response.text
    job: dict = response.json()
    return job


async def _job(client, auth, account_id: str, job_id: str) -> dict:
    response = await client.get(f"{ACCOUNTS}{account_id}/leads/backfill/{job_id}/", headers=auth())
    assert response.status_code == 200, response.text
    job: dict = response.json()
    return job


async def _leads(sessionmaker) -> dict[str, Lead]:
    async with sessionmaker() as session:
        return {lead.tiktok_lead_id: lead for lead in (await session.scalars(select(Lead))).all()}


async def test_backfill_stores_only_the_missing_leads_and_reports_progress(
    client, auth, business, exported, app, sessionmaker, settings
) -> None:
    jane, _john, _emily, juan_id, _wei = exported
    account_id = await connect_ads(client, auth)
    # Delivered by webhook before: the export holds it too.
    async with session_scope(sessionmaker) as session:
        await leads.ingest(
            session,
            [
                ParsedLead.from_answers(
                    tiktok_lead_id=jane,
                    attribution=Attribution(advertiser_id=ADVERTISER_A, form_id=FORM_EN),
                    answers=[{"field": "email", "value": "jane@example.com"}],
                    raw={},
                )
            ],
            source=LeadSource.webhook,
            settings=settings,
        )

    queued = await _start(client, auth, account_id)

    assert queued["status"] == "queued"
    assert (queued["forms_total"], queued["leads_created"], queued["error"]) == (0, 0, None)
    assert await run_due_backfills(app.state.ads) == 1

    job = await _job(client, auth, account_id, queued["id"])
    assert job["status"] == "succeeded", job
    assert (job["forms_total"], job["forms_done"]) == (3, 3)
    assert (job["leads_seen"], job["leads_created"]) == (5, 4)
    assert job["started_at"]
    assert job["finished_at"]
    stored = await _leads(sessionmaker)
    assert sorted(stored) == sorted(exported)
    assert stored[jane].source == LeadSource.webhook
    assert {stored[lead_id].source for lead_id in exported[1:]} == {LeadSource.backfill}
    assert all(lead.company_id == "acme" for lead in stored.values())
    juan = stored[juan_id]
    assert (juan.name, juan.email, juan.phone) == ("Juan Pérez", "juan@example.es", "+34612345678")
    assert (juan.form_id, juan.advertiser_name) == (FORM_ES, "Acme Outdoor")
    assert business.task_requests() == [
        (form, region) for form in (FORM_EN, FORM_ES, FORM_B) for region in (None, "eu", "us")
    ]
    done = (await log_entries(sessionmaker, account_id))[-1]
    assert done.event == "leads.backfill_succeeded"
    assert (done.data["leads_seen"], done.data["leads_created"]) == (5, 4)

    again = await _start(client, auth, account_id)
    assert again["id"] != queued["id"]
    await run_due_backfills(app.state.ads)
    assert (await _job(client, auth, account_id, again["id"]))["leads_created"] == 0


async def test_backfill_of_one_form(client, auth, business, app) -> None:
    account_id = await connect_ads(client, auth)

    job = await _start(client, auth, account_id, {"form_id": FORM_ES})
    await run_due_backfills(app.state.ads)

    done = await _job(client, auth, account_id, job["id"])
    assert (done["status"], done["form_id"], done["forms_total"]) == ("succeeded", FORM_ES, 1)
    assert {form for form, _ in business.task_requests()} == {FORM_ES}
    assert done["leads_created"] == 1


async def test_a_form_that_is_not_the_accounts_fails_the_job(client, auth, business, app) -> None:
    account_id = await connect_ads(client, auth)

    job = await _start(client, auth, account_id, {"form_id": "123"})
    await run_due_backfills(app.state.ads)

    done = await _job(client, auth, account_id, job["id"])
    assert done["status"] == "failed"
    assert "form 123" in done["error"]


async def test_a_failed_export_task_fails_the_job_with_its_reason_on_the_account_log(
    client, auth, business, app, sessionmaker, database_url
) -> None:
    account_id = await connect_ads(client, auth)
    await business.fault("lead_task", "task_failed")  # the next status poll: FAILED
    # One export in flight, so the next status poll is the first form's (default region).
    app.state.ads.settings = ads_settings(database_url, leads_export_concurrency=1)

    job = await _start(client, auth, account_id)
    await run_due_backfills(app.state.ads)

    done = await _job(client, auth, account_id, job["id"])
    assert done["status"] == "failed"
    assert done["error"] == f"TikTok's export task for form {FORM_EN} failed"
    assert done["forms_done"] == 0
    failed = (await log_entries(sessionmaker, account_id))[-1]
    assert (failed.event, failed.level) == ("leads.backfill_failed", "error")


async def test_polling_is_bounded(client, auth, business, app, database_url) -> None:
    account_id = await connect_ads(client, auth)
    await business.fault("lead_task", "task_stalled", count=3)  # no poll moves it on
    app.state.ads.settings = ads_settings(database_url, leads_backfill_poll_attempts=3)

    job = await _start(client, auth, account_id)
    await run_due_backfills(app.state.ads)

    done = await _job(client, auth, account_id, job["id"])
    assert done["status"] == "failed"
    assert "did not finish after 3 polls" in done["error"]


async def test_a_region_tiktok_refuses_is_skipped(
    client, auth, business, app, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    await business.fault("lead_task", code=40001, region="eu", count=3)

    job = await _start(client, auth, account_id)
    await run_due_backfills(app.state.ads)

    done = await _job(client, auth, account_id, job["id"])
    assert (done["status"], done["leads_created"]) == ("succeeded", 4)
    succeeded = (await log_entries(sessionmaker, account_id))[-1]
    assert len(succeeded.data["regions_refused"]) == 3


async def test_an_unreadable_export_fails_the_job(client, auth, business, app) -> None:
    account_id = await connect_ads(client, auth)
    await business.fault("lead_download", "corrupt_file")  # the first: FORM_EN's

    job = await _start(client, auth, account_id)
    await run_due_backfills(app.state.ads)

    done = await _job(client, auth, account_id, job["id"])
    assert done["status"] == "failed"
    assert "unreadable" in done["error"]


async def test_a_refused_token_fails_the_job_and_flags_the_account(
    client, auth, business, app, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    await business.fault("lead_task", code=40105)

    job = await _start(client, auth, account_id)
    await run_due_backfills(app.state.ads)

    done = await _job(client, auth, account_id, job["id"])
    assert done["status"] == "failed"
    assert done["error"].startswith("reauth_required")
    status = (await client.get(f"{ACCOUNTS}{account_id}/", headers=auth())).json()["status"]
    assert status == "reauth_required"


async def test_asking_again_while_one_is_queued_answers_that_one(client, auth, business) -> None:
    account_id = await connect_ads(client, auth)

    first = await _start(client, auth, account_id)
    second = await _start(client, auth, account_id, {"form_id": FORM_EN})

    assert second["id"] == first["id"]


async def test_a_job_whose_worker_died_is_resumed_after_its_lease(
    client, auth, business, app, sessionmaker
) -> None:
    account_id = await connect_ads(client, auth)
    job = await _start(client, auth, account_id)
    # A worker claimed it, finished the first form, then died.
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(BackfillJob).values(
                status=BackfillStatus.running,
                attempts=1,
                lease_until=utcnow() - timedelta(seconds=1),
                completed_forms=[f"{ADVERTISER_A}:{FORM_EN}"],
                forms_done=1,
            )
        )

    assert await run_due_backfills(app.state.ads) == 1

    done = await _job(client, auth, account_id, job["id"])
    assert (done["status"], done["forms_done"], done["forms_total"]) == ("succeeded", 3, 3)
    assert FORM_EN not in {form for form, _ in business.task_requests()}
    async with sessionmaker() as session:
        assert (await session.get(BackfillJob, uuid.UUID(job["id"]))).attempts == 2


async def test_a_job_claimed_by_a_live_worker_is_left_alone(client, auth, business, app) -> None:
    account_id = await connect_ads(client, auth)
    await _start(client, auth, account_id)
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(BackfillJob).values(
                status=BackfillStatus.running,
                attempts=1,
                lease_until=utcnow() + timedelta(minutes=5),
            )
        )

    assert await run_due_backfills(app.state.ads) == 0


async def test_disconnect_stops_the_accounts_backfills(client, auth, business, app) -> None:
    account_id = await connect_ads(client, auth)
    job = await _start(client, auth, account_id)

    await client.post(f"{ACCOUNTS}{account_id}/disconnect/", headers=auth())

    done = await _job(client, auth, account_id, job["id"])
    assert done["status"] == "failed"
    assert done["error"].startswith("account_disconnected")
    assert await run_due_backfills(app.state.ads) == 0


async def test_backfill_needs_a_connected_ads_account(client, auth, business) -> None:
    login_kit = await create_account(client, auth, platform="tiktok")
    pending = await create_account(client, auth)

    wrong = await client.post(f"{ACCOUNTS}{login_kit}/leads/backfill/", headers=auth())
    unconnected = await client.post(f"{ACCOUNTS}{pending}/leads/backfill/", headers=auth())
    bad_form = await client.post(
        f"{ACCOUNTS}{pending}/leads/backfill/", json={"form_id": "12.5"}, headers=auth()
    )

    assert (wrong.status_code, wrong.json()["error"]["code"]) == (409, "wrong_platform")
    assert (unconnected.status_code, unconnected.json()["error"]["code"]) == (
        409,
        "account_not_connected",
    )
    assert bad_form.status_code == 422


async def test_a_job_is_only_visible_to_its_company_and_account(client, auth, business) -> None:
    account_id = await connect_ads(client, auth)
    job = await _start(client, auth, account_id)
    other = await create_account(client, auth)

    for url, company in (
        (f"{ACCOUNTS}{account_id}/leads/backfill/{job['id']}/", "globex"),
        (f"{ACCOUNTS}{other}/leads/backfill/{job['id']}/", "acme"),
        (f"{ACCOUNTS}{account_id}/leads/backfill/{uuid.uuid4()}/", "acme"),
    ):
        response = await client.get(url, headers=auth(company))
        assert response.status_code == 404, url
