from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.video_page_out import VideoPageOut
from ...types import UNSET, Response, Unset


def _get_kwargs(
    account_id: UUID,
    *,
    cursor: int | None | Unset = UNSET,
    max_count: int | Unset = 20,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_cursor: int | None | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    params["max_count"] = max_count

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/integrations/accounts/{account_id}/tiktok-videos/".format(
            account_id=quote(str(account_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | VideoPageOut | None:
    if response.status_code == 200:
        response_200 = VideoPageOut.from_dict(response.json())

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

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ErrorResponse.from_dict(response.json())

        return response_500

    if response.status_code == 502:
        response_502 = ErrorResponse.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = ErrorResponse.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorResponse | VideoPageOut]:
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
    cursor: int | None | Unset = UNSET,
    max_count: int | Unset = 20,
) -> Response[ErrorResponse | VideoPageOut]:
    """The account's public videos, newest first

    Args:
        account_id (UUID):
        cursor (int | None | Unset): `cursor` of the previous page
        max_count (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | VideoPageOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        cursor=cursor,
        max_count=max_count,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    cursor: int | None | Unset = UNSET,
    max_count: int | Unset = 20,
) -> ErrorResponse | VideoPageOut | None:
    """The account's public videos, newest first

    Args:
        account_id (UUID):
        cursor (int | None | Unset): `cursor` of the previous page
        max_count (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | VideoPageOut
    """

    return sync_detailed(
        account_id=account_id,
        client=client,
        cursor=cursor,
        max_count=max_count,
    ).parsed


async def asyncio_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    cursor: int | None | Unset = UNSET,
    max_count: int | Unset = 20,
) -> Response[ErrorResponse | VideoPageOut]:
    """The account's public videos, newest first

    Args:
        account_id (UUID):
        cursor (int | None | Unset): `cursor` of the previous page
        max_count (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | VideoPageOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        cursor=cursor,
        max_count=max_count,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    cursor: int | None | Unset = UNSET,
    max_count: int | Unset = 20,
) -> ErrorResponse | VideoPageOut | None:
    """The account's public videos, newest first

    Args:
        account_id (UUID):
        cursor (int | None | Unset): `cursor` of the previous page
        max_count (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | VideoPageOut
    """

    return (
        await asyncio_detailed(
            account_id=account_id,
            client=client,
            cursor=cursor,
            max_count=max_count,
        )
    ).parsed
