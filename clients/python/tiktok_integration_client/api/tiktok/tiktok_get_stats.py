import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.stats_history_out import StatsHistoryOut
from ...types import UNSET, Response, Unset


def _get_kwargs(
    account_id: UUID,
    *,
    since: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 500,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_since: None | str | Unset
    if isinstance(since, Unset):
        json_since = UNSET
    elif isinstance(since, datetime.datetime):
        json_since = since.isoformat()
    else:
        json_since = since
    params["since"] = json_since

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/integrations/accounts/{account_id}/tiktok-stats/".format(
            account_id=quote(str(account_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | StatsHistoryOut | None:
    if response.status_code == 200:
        response_200 = StatsHistoryOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorResponse.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())

        return response_409

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
) -> Response[ErrorResponse | StatsHistoryOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 500,
) -> Response[ErrorResponse | StatsHistoryOut]:
    """Stats snapshots over time, oldest first

    Args:
        account_id (UUID):
        since (datetime.datetime | None | Unset): Only snapshots at or after this time (ISO 8601
            with zone)
        limit (int | Unset):  Default: 500.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | StatsHistoryOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        since=since,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 500,
) -> ErrorResponse | StatsHistoryOut | None:
    """Stats snapshots over time, oldest first

    Args:
        account_id (UUID):
        since (datetime.datetime | None | Unset): Only snapshots at or after this time (ISO 8601
            with zone)
        limit (int | Unset):  Default: 500.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | StatsHistoryOut
    """

    return sync_detailed(
        account_id=account_id,
        client=client,
        since=since,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 500,
) -> Response[ErrorResponse | StatsHistoryOut]:
    """Stats snapshots over time, oldest first

    Args:
        account_id (UUID):
        since (datetime.datetime | None | Unset): Only snapshots at or after this time (ISO 8601
            with zone)
        limit (int | Unset):  Default: 500.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | StatsHistoryOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        since=since,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | None | Unset = UNSET,
    limit: int | Unset = 500,
) -> ErrorResponse | StatsHistoryOut | None:
    """Stats snapshots over time, oldest first

    Args:
        account_id (UUID):
        since (datetime.datetime | None | Unset): Only snapshots at or after this time (ISO 8601
            with zone)
        limit (int | Unset):  Default: 500.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | StatsHistoryOut
    """

    return (
        await asyncio_detailed(
            account_id=account_id,
            client=client,
            since=since,
            limit=limit,
        )
    ).parsed
