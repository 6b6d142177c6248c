from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.account_status import AccountStatus
from ...models.error_response import ErrorResponse
from ...models.page_account_out import PageAccountOut
from ...models.platform import Platform
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    platform: None | Platform | Unset = UNSET,
    status: AccountStatus | None | Unset = UNSET,
    external_ref: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_platform: None | str | Unset
    if isinstance(platform, Unset):
        json_platform = UNSET
    elif isinstance(platform, Platform):
        json_platform = platform.value
    else:
        json_platform = platform
    params["platform"] = json_platform

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, AccountStatus):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    json_external_ref: None | str | Unset
    if isinstance(external_ref, Unset):
        json_external_ref = UNSET
    else:
        json_external_ref = external_ref
    params["external_ref"] = json_external_ref

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/integrations/accounts/",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | PageAccountOut | None:
    if response.status_code == 200:
        response_200 = PageAccountOut.from_dict(response.json())

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
) -> Response[ErrorResponse | PageAccountOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    platform: None | Platform | Unset = UNSET,
    status: AccountStatus | None | Unset = UNSET,
    external_ref: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[ErrorResponse | PageAccountOut]:
    """List the company's integration accounts

    Args:
        platform (None | Platform | Unset):
        status (AccountStatus | None | Unset):
        external_ref (None | str | Unset): Only accounts with this `external_ref`
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | PageAccountOut]
    """

    kwargs = _get_kwargs(
        platform=platform,
        status=status,
        external_ref=external_ref,
        cursor=cursor,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    platform: None | Platform | Unset = UNSET,
    status: AccountStatus | None | Unset = UNSET,
    external_ref: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> ErrorResponse | PageAccountOut | None:
    """List the company's integration accounts

    Args:
        platform (None | Platform | Unset):
        status (AccountStatus | None | Unset):
        external_ref (None | str | Unset): Only accounts with this `external_ref`
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | PageAccountOut
    """

    return sync_detailed(
        client=client,
        platform=platform,
        status=status,
        external_ref=external_ref,
        cursor=cursor,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    platform: None | Platform | Unset = UNSET,
    status: AccountStatus | None | Unset = UNSET,
    external_ref: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[ErrorResponse | PageAccountOut]:
    """List the company's integration accounts

    Args:
        platform (None | Platform | Unset):
        status (AccountStatus | None | Unset):
        external_ref (None | str | Unset): Only accounts with this `external_ref`
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | PageAccountOut]
    """

    kwargs = _get_kwargs(
        platform=platform,
        status=status,
        external_ref=external_ref,
        cursor=cursor,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    platform: None | Platform | Unset = UNSET,
    status: AccountStatus | None | Unset = UNSET,
    external_ref: None | str | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> ErrorResponse | PageAccountOut | None:
    """List the company's integration accounts

    Args:
        platform (None | Platform | Unset):
        status (AccountStatus | None | Unset):
        external_ref (None | str | Unset): Only accounts with this `external_ref`
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | PageAccountOut
    """

    return (
        await asyncio_detailed(
            client=client,
            platform=platform,
            status=status,
            external_ref=external_ref,
            cursor=cursor,
            limit=limit,
        )
    ).parsed
