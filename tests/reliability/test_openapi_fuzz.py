"""schemathesis over the app's own OpenAPI document, against the real app under uvicorn
(with its built-in TikTok emulator) on SQLite and PostgreSQL: no answer is a server error
(5xx) and every answer matches what the document declares (status, content type, headers,
body schema); invalid requests are rejected and valid ones accepted. All of schemathesis'
default checks run, for valid and for invalid requests.

Bounded and reproducible: a fixed seed, deterministic generation, at most `MAX_EXAMPLES`
fuzzed cases per operation (plus schemathesis' own examples and coverage cases), a
deadline per case and a timeout per request. Every operation in the document is tested;
no operation and no check is excluded. The browser OAuth routes are documented as
302-only and are held to it like everything else. Three kinds of failure report are
dropped, narrowly, in `filter_failure` (a cursor the service never issued, an
Idempotency-Key reused for another body, a `return_to` outside the configured origins; see
there why).

Requests carry a valid CRM bearer token of company A. Ids in paths are random, or (for
three cases in four, decided by the generated id itself, so still reproducible) one of
company A's real ids, so the fuzzer also reaches connected accounts (the emulator then
answers TikTok's side), ads accounts, leads, deliveries and backfill jobs.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis import Case
from schemathesis.core.failures import Failure
from schemathesis.openapi.checks import RejectedPositiveData

from app.main import create_app
from tests.conftest import make_settings
from tests.reliability.conftest import World
from tests.reliability.support import bearer, connect_login_kit, create_account

SEED = 20261124
MAX_EXAMPLES = 50
CASE_DEADLINE = timedelta(seconds=10)
REQUEST_TIMEOUT = 10.0

# The document the service serves at /openapi.json (the emulator is mounted outside it).
DOCUMENT = create_app(make_settings()).openapi()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",  # valid requests and invalid ones
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",  # no .hypothesis/ directory, no replay of old runs
                # Credentials are ours (a valid bearer token), not generated: a random
                # X-API-Key beside it would make most cases a 401.
                "with-security-parameters": False,
            },
            # Operation by operation; sequences of calls are the other tests' business.
            "phases": {"stateful": {"enabled": False}},
            "request-timeout": REQUEST_TIMEOUT,
            # Data generation's own speed is no property of the API: a loaded CI machine
            # must not fail the run for it.
            "suppress-health-check": ["too_slow"],
        }
    ),
)

# Filled by the `fuzz_target` fixture: the seeded ids a path parameter may be mapped to.
TARGET: dict[str, Any] = {}
STATUSES: Counter[int] = Counter()
DROPPED: Counter[str] = Counter()
DESTRUCTIVE = {("DELETE", "/api/integrations/accounts/{account_id}/")} | {
    ("POST", "/api/integrations/accounts/{account_id}/disconnect/")
}


@schema.hook
def map_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any]
) -> dict[str, Any]:
    """Aim three in four generated UUIDs at one of company A's real resources."""
    if not TARGET or context.operation is None or not isinstance(path_parameters, dict):
        return path_parameters
    operation = (context.operation.method.upper(), context.operation.path)
    mapped = dict(path_parameters)
    for name, value in path_parameters.items():
        try:
            number = uuid.UUID(str(value)).int
        except ValueError:
            continue  # an invalid id (negative case) stays as generated
        if number % 4 == 0:
            continue
        if name == "account_id" and operation in DESTRUCTIVE:
            pool = TARGET["expendable"]
        elif name == "job_id":
            account, job = TARGET["backfills"][number % len(TARGET["backfills"])]
            if "account_id" in mapped:
                mapped["account_id"] = account
            mapped[name] = job
            continue
        else:
            pool = TARGET.get(name, [])
        if pool:
            mapped[name] = pool[number % len(pool)]
    return mapped


def _sent_return_to(case: Case) -> bool:
    return isinstance(case.body, dict) and case.body.get("return_to") is not None


# Valid by any schema, refused by what no schema can say: the request that came before, or
# the service's configuration. Each is the documented answer, and only for its own input.
CONTEXTUAL_REFUSALS = {
    # Cursors are opaque tokens of a previous page (a string, as far as a schema can say).
    "invalid_cursor": lambda case: bool(
        (case.query or {}).get("cursor") or (case.query or {}).get("after")
    ),
    # A key is the first request's: the fuzzer reuses generated keys with other bodies.
    "idempotency_key_reused": lambda case: any(
        name.lower() == "idempotency-key" for name in (case.headers or {})
    ),
    # The allowed origins are configuration (FRONTEND_ORIGINS), not part of the document.
    "return_to_not_allowed": _sent_return_to,
}


@schema.hook
def filter_failure(
    context: schemathesis.HookContext,
    failure: Failure,
    case: Case,
    response: schemathesis.Response,
) -> bool:
    """Keep every failure but the contextual refusals of a valid request: a 422 with one of
    `CONTEXTUAL_REFUSALS`' codes for a request carrying that code's input. So
    "schema-valid but rejected" is the documented behaviour there; any other rejected valid
    request still fails."""
    if isinstance(failure, RejectedPositiveData) and response.status_code == 422:
        try:
            code = json.loads(response.content)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return True
        applies = CONTEXTUAL_REFUSALS.get(code)
        if applies is not None and applies(case):
            DROPPED[f"422 {code}"] += 1
            return False
    return True


@schema.hook
def after_call(
    context: schemathesis.HookContext, case: Case, response: schemathesis.Response
) -> None:
    STATUSES[response.status_code] += 1


@pytest.fixture(scope="module")
async def fuzz_target(world: World) -> AsyncIterator[World]:
    a = world.a
    # DELETE and disconnect get accounts of their own, so the other operations keep theirs.
    expendable = [await connect_login_kit(world.server, a.company, user) for user in (1, 2)]
    async with httpx.AsyncClient(base_url=world.server.url, headers=bearer(a.company)) as api:
        expendable.append(await create_account(api, "tiktok", "expendable"))
    TARGET.update(
        account_id=a.login_kit + a.pending + a.ads,
        expendable=expendable,
        backfills=a.backfills,
        lead_id=a.leads,
        delivery_id=a.deliveries,
    )
    STATUSES.clear()
    DROPPED.clear()
    try:
        yield world
    finally:
        TARGET.clear()
        print(  # the figures of the run, for the report (`-s` shows them)
            f"\nschemathesis: {sum(STATUSES.values())} cases, "
            f"{sum(n for s, n in STATUSES.items() if s >= 500)} server errors, "
            f"statuses {dict(sorted(STATUSES.items()))}, dropped {dict(DROPPED)}"
        )


@schema.parametrize()
@hypothesis.settings(deadline=CASE_DEADLINE)
def test_no_server_error_and_every_answer_as_documented(case: Case, fuzz_target: World) -> None:
    case.call_and_validate(base_url=fuzz_target.server.url, headers=bearer(fuzz_target.a.company))


def test_the_fuzzed_document_is_the_one_the_service_serves(fuzz_target: World) -> None:
    served = httpx.get(f"{fuzz_target.server.url}/openapi.json", timeout=10.0)
    assert served.status_code == 200
    assert served.json() == DOCUMENT
