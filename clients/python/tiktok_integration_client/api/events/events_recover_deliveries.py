from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.recover_in import RecoverIn
from ...models.recover_out import RecoverOut
from ...types import Response


def _get_kwargs(
    *,
    body: RecoverIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/integrations/events/deliveries/recover/",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | RecoverOut | None:
    if response.status_code == 200:
        response_200 = RecoverOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorResponse.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())

        return response_413

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
) -> Response[ErrorResponse | RecoverOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: RecoverIn,
) -> Response[ErrorResponse | RecoverOut]:
    """Queue every dead delivery since a time again (attempts reset)

     Once the CRM is fixed: every dead delivery of the company's events created at or after `since` goes
    back to `pending`, due now, with a fresh retry window.

    Args:
        body (RecoverIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | RecoverOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: RecoverIn,
) -> ErrorResponse | RecoverOut | None:
    """Queue every dead delivery since a time again (attempts reset)

     Once the CRM is fixed: every dead delivery of the company's events created at or after `since` goes
    back to `pending`, due now, with a fresh retry window.

    Args:
        body (RecoverIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | RecoverOut
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: RecoverIn,
) -> Response[ErrorResponse | RecoverOut]:
    """Queue every dead delivery since a time again (attempts reset)

     Once the CRM is fixed: every dead delivery of the company's events created at or after `since` goes
    back to `pending`, due now, with a fresh retry window.

    Args:
        body (RecoverIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | RecoverOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: RecoverIn,
) -> ErrorResponse | RecoverOut | None:
    """Queue every dead delivery since a time again (attempts reset)

     Once the CRM is fixed: every dead delivery of the company's events created at or after `since` goes
    back to `pending`, due now, with a fresh retry window.

    Args:
        body (RecoverIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | RecoverOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
