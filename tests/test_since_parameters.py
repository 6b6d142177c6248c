"""`since` query parameters take an ISO 8601 date-time with a zone, and nothing else."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

ACCOUNTS = "/api/integrations/accounts/"

REFUSED = [
    "0.5",  # a Unix time, which pydantic alone would take
    "1700000000",
    "2026-01-31",
    "2026-01-31T09:30:00",  # no zone
    "2026-01-31T09:30:00 01:00",  # an unencoded `+` arrives as a space
    "yesterday",
]
ACCEPTED = ["2026-01-31T09:30:00Z", "2026-01-31T09:30:00+01:00", "2026-01-31T09:30:00.5-05:00"]


@pytest.fixture
async def since_urls(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]) -> list[str]:
    created = await client.post(ACCOUNTS, json={"platform": "tiktok", "name": "B"}, headers=auth())
    return ["/api/integrations/leads/", f"{ACCOUNTS}{created.json()['id']}/tiktok-stats/"]


@pytest.mark.parametrize("value", REFUSED)
async def test_since_without_an_iso_8601_date_time_and_zone_is_422(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], since_urls: list[str], value
) -> None:
    for url in since_urls:
        response = await client.get(url, params={"since": value}, headers=auth())
        assert response.status_code == 422, (url, value)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"][0]["loc"] == ["query", "since"]


@pytest.mark.parametrize("value", ACCEPTED)
async def test_since_with_an_iso_8601_date_time_and_zone_is_accepted(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], since_urls: list[str], value
) -> None:
    for url in since_urls:
        response = await client.get(url, params={"since": value}, headers=auth())
        assert response.status_code == 200, (url, value, response.text)
