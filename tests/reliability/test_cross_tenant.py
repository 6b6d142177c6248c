"""No company reaches another's data: every route that takes an id, generated from the
route table, called for company A's ids with company B's bearer token and with a service
key acting for company B, answers 404 with exactly the body of a random missing id.

A new route with an id parameter this matrix has no seed for fails the test: extend
`SEEDS` (and, if the route needs one, `BODIES`) rather than let it go unprobed. The
emulator mounted at /_tiktok (development only, never in production) is one Mount entry
of the table, not the service's API, and is not descended into.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import product
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from tests.conftest import SERVICE_KEY
from tests.e2e.flow import TIMEOUT
from tests.reliability.conftest import World
from tests.reliability.support import Seeded, bearer

ID_PARAMETER = re.compile(r"{(\w*id)(?::\w+)?}")
ACCOUNT_ROUTES = "/api/integrations/accounts/{account_id}/"

# For each id parameter: the ids of a company it can name. Accounts of every kind are tried,
# since a check that holds for one platform or status might not for another.
SEEDS: dict[str, Callable[[Seeded], list[str]]] = {
    "account_id": lambda s: s.login_kit + s.pending + s.ads,
    "job_id": lambda s: [job for _, job in s.backfills],
    "lead_id": lambda s: s.leads,
    "delivery_id": lambda s: s.deliveries,
}
# Valid bodies, so the only thing wrong with a request is whose id it names.
BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", ACCOUNT_ROUTES): {"name": "renamed by another company"},
    ("POST", ACCOUNT_ROUTES + "leads/backfill/"): {},
    ("POST", ACCOUNT_ROUTES + "leads/probe/"): {"form_id": "7100000000000000001"},
}


@dataclass(frozen=True)
class IdRoute:
    method: str
    path: str
    parameters: tuple[str, ...]


def id_routes(app: FastAPI) -> list[IdRoute]:
    """Every (method, path) of the app whose path names an id, schema or not."""
    routes: list[IdRoute] = []
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        parameters = tuple(ID_PARAMETER.findall(path))
        if not parameters:
            continue
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append(IdRoute(method, path, parameters))
    return routes


def principals(company: str) -> dict[str, dict[str, str]]:
    return {
        "bearer": bearer(company),
        "service key": {"X-API-Key": SERVICE_KEY, "X-Company-Id": company},
    }


def id_sets(
    route: IdRoute, owner: Seeded, intruder: Seeded
) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """(values naming the owner's resources, the same with each of the owner's ids replaced
    by a random missing one): each seeded combination, and each child id of the owner under
    the intruder's own parent (another company's job under my own account)."""
    if route.parameters == ("account_id", "job_id"):
        for account, job in owner.backfills:
            yield {"account_id": account, "job_id": job}, missing_ids(route)
        for (account, _), (_, job) in product(intruder.backfills, owner.backfills):
            values = {"account_id": account, "job_id": job}
            yield values, missing_ids(route) | {"account_id": account}
        return
    (parameter,) = route.parameters
    for value in SEEDS[parameter](owner):
        yield {parameter: value}, missing_ids(route)


def missing_ids(route: IdRoute) -> dict[str, str]:
    return {name: str(uuid.uuid4()) for name in route.parameters}


def url(route: IdRoute, values: dict[str, str]) -> str:
    return ID_PARAMETER.sub(lambda match: values[match.group(1)], route.path)


async def call(
    http: httpx.AsyncClient, route: IdRoute, values: dict[str, str], headers: dict[str, str]
) -> httpx.Response:
    body = BODIES.get((route.method, route.path))
    return await http.request(
        route.method,
        url(route, values),
        headers=headers,
        json=body if body is not None else None,
    )


async def test_every_id_route_hides_another_companys_data(world: World) -> None:
    routes = id_routes(world.server.app)
    unseeded = {p for route in routes for p in route.parameters} - SEEDS.keys()
    assert not unseeded, f"id routes with no seed in the matrix: {unseeded}"
    multi = {r.parameters for r in routes if len(r.parameters) > 1} - {("account_id", "job_id")}
    assert not multi, f"id routes with an id combination the matrix does not build: {multi}"
    # Not empty, and nothing the OpenAPI document lists with an id is missing from it.
    documented = {
        (method.upper(), path)
        for path, operations in world.server.app.openapi()["paths"].items()
        if ID_PARAMETER.search(path)
        for method in operations
    }
    assert documented, "the document lists no id route: the route table reading is broken"
    assert documented <= {(r.method, r.path) for r in routes}

    probes: list[str] = []
    leaks: list[str] = []
    covered: set[tuple[str, str, str]] = set()
    async with httpx.AsyncClient(base_url=world.server.url, timeout=TIMEOUT) as http:
        for route, (who, headers) in product(routes, principals(world.b.company).items()):
            for values, missing in id_sets(route, world.a, world.b):
                expected = await call(http, route, missing, headers)
                assert expected.status_code == 404, (route, who, expected.text)
                answer = await call(http, route, values, headers)
                probe = f"{route.method} {url(route, values)} as {who} of B"
                probes.append(probe)
                covered.add((route.method, route.path, who))
                if (answer.status_code, answer.content) != (404, expected.content):
                    leaks.append(
                        f"{probe}: {answer.status_code} {answer.text[:200]} "
                        f"(a missing id: {expected.text[:200]})"
                    )

        assert not leaks, "\n".join(leaks)
        # Nothing of A changed behind the 404s (rename, delete, disconnect, sync, replay...).
        owner = bearer(world.a.company)
        for account_id in world.a.login_kit + world.a.pending + world.a.ads:
            account = await http.get(f"/api/integrations/accounts/{account_id}/", headers=owner)
            assert account.status_code == 200, account.text
            assert not account.json()["name"].startswith("renamed"), account.json()
        connected = await http.get(
            f"/api/integrations/accounts/{world.a.login_kit[0]}/", headers=owner
        )
        assert connected.json()["status"] == "connected"
        for lead_id in world.a.leads:
            lead = await http.get(f"/api/integrations/leads/{lead_id}/", headers=owner)
            assert lead.status_code == 200, lead.text
        for account_id, job_id in world.a.backfills:
            job = await http.get(
                f"/api/integrations/accounts/{account_id}/leads/backfill/{job_id}/", headers=owner
            )
            assert job.status_code == 200, job.text

    # Every id route was probed, by both kinds of principal.
    assert covered == {(r.method, r.path, who) for r in routes for who in ("bearer", "service key")}
    print(f"\ncross-tenant: {len(routes)} id routes, {len(probes)} probes, {len(leaks)} leaks")
