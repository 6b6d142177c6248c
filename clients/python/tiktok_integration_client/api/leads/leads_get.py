from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.lead_detail_out import LeadDetailOut
from ...types import Response


def _get_kwargs(
    lead_id: UUID,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/integrations/leads/{lead_id}/".format(
            lead_id=quote(str(lead_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | LeadDetailOut | None:
    if response.status_code == 200:
        response_200 = LeadDetailOut.from_dict(response.json())

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
) -> Response[ErrorResponse | LeadDetailOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    lead_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[ErrorResponse | LeadDetailOut]:
    """Read a lead

    Args:
        lead_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | LeadDetailOut]
    """

    kwargs = _get_kwargs(
        lead_id=lead_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    lead_id: UUID,
    *,
    client: AuthenticatedClient,
) -> ErrorResponse | LeadDetailOut | None:
    """Read a lead

    Args:
        lead_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | LeadDetailOut
    """

    return sync_detailed(
        lead_id=lead_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    lead_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[ErrorResponse | LeadDetailOut]:
    """Read a lead

    Args:
        lead_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | LeadDetailOut]
    """

    kwargs = _get_kwargs(
        lead_id=lead_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    lead_id: UUID,
    *,
    client: AuthenticatedClient,
) -> ErrorResponse | LeadDetailOut | None:
    """Read a lead

    Args:
        lead_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | LeadDetailOut
    """

    return (
        await asyncio_detailed(
            lead_id=lead_id,
            client=client,
        )
    ).parsed
