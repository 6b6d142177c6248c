from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.lead_stats_out import LeadStatsOut
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/integrations/leads/stats/",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | LeadStatsOut | None:
    if response.status_code == 200:
        response_200 = LeadStatsOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorResponse.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = ErrorResponse.from_dict(response.json())

        return response_422

    if response.status_code == 500:
        response_500 = ErrorResponse.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorResponse | LeadStatsOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[ErrorResponse | LeadStatsOut]:
    """Lead freshness over the last day: time to storage and to the CRM, backlog

     From the company's leads stored over the last day: the time from TikTok's `create_time` to our
    storage and to the CRM's acknowledgement (p50, p99), how many came by webhook, backfill and
    reconciliation, and the lead deliveries the CRM has not acknowledged yet (how many, the oldest's
    age).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | LeadStatsOut]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
) -> ErrorResponse | LeadStatsOut | None:
    """Lead freshness over the last day: time to storage and to the CRM, backlog

     From the company's leads stored over the last day: the time from TikTok's `create_time` to our
    storage and to the CRM's acknowledgement (p50, p99), how many came by webhook, backfill and
    reconciliation, and the lead deliveries the CRM has not acknowledged yet (how many, the oldest's
    age).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | LeadStatsOut
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[ErrorResponse | LeadStatsOut]:
    """Lead freshness over the last day: time to storage and to the CRM, backlog

     From the company's leads stored over the last day: the time from TikTok's `create_time` to our
    storage and to the CRM's acknowledgement (p50, p99), how many came by webhook, backfill and
    reconciliation, and the lead deliveries the CRM has not acknowledged yet (how many, the oldest's
    age).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | LeadStatsOut]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
) -> ErrorResponse | LeadStatsOut | None:
    """Lead freshness over the last day: time to storage and to the CRM, backlog

     From the company's leads stored over the last day: the time from TikTok's `create_time` to our
    storage and to the CRM's acknowledgement (p50, p99), how many came by webhook, backfill and
    reconciliation, and the lead deliveries the CRM has not acknowledged yet (how many, the oldest's
    age).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | LeadStatsOut
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
