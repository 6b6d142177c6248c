from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.account_create import AccountCreate
from ...models.account_out import AccountOut
from ...models.error_response import ErrorResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: AccountCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/integrations/accounts/",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AccountOut | ErrorResponse | None:
    if response.status_code == 201:
        response_201 = AccountOut.from_dict(response.json())

        return response_201

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
) -> Response[AccountOut | ErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: AccountCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[AccountOut | ErrorResponse]:
    """Create an account (pending)

    Args:
        idempotency_key (None | str | Unset): Makes a retry safe: a request with a key used in the
            last 24 h (by the same company, with the same body) is answered with the first answer
            instead of being run again (`Idempotent-Replayed: true`). A connect's key lasts as long as
            the link it answers (OAUTH_STATE_TTL_SECONDS, 10 minutes by default). Visible ASCII, up to
            255 characters; a UUID is a good key.
        body (AccountCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountOut | ErrorResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: AccountCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> AccountOut | ErrorResponse | None:
    """Create an account (pending)

    Args:
        idempotency_key (None | str | Unset): Makes a retry safe: a request with a key used in the
            last 24 h (by the same company, with the same body) is answered with the first answer
            instead of being run again (`Idempotent-Replayed: true`). A connect's key lasts as long as
            the link it answers (OAUTH_STATE_TTL_SECONDS, 10 minutes by default). Visible ASCII, up to
            255 characters; a UUID is a good key.
        body (AccountCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountOut | ErrorResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: AccountCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[AccountOut | ErrorResponse]:
    """Create an account (pending)

    Args:
        idempotency_key (None | str | Unset): Makes a retry safe: a request with a key used in the
            last 24 h (by the same company, with the same body) is answered with the first answer
            instead of being run again (`Idempotent-Replayed: true`). A connect's key lasts as long as
            the link it answers (OAUTH_STATE_TTL_SECONDS, 10 minutes by default). Visible ASCII, up to
            255 characters; a UUID is a good key.
        body (AccountCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccountOut | ErrorResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: AccountCreate,
    idempotency_key: None | str | Unset = UNSET,
) -> AccountOut | ErrorResponse | None:
    """Create an account (pending)

    Args:
        idempotency_key (None | str | Unset): Makes a retry safe: a request with a key used in the
            last 24 h (by the same company, with the same body) is answered with the first answer
            instead of being run again (`Idempotent-Replayed: true`). A connect's key lasts as long as
            the link it answers (OAUTH_STATE_TTL_SECONDS, 10 minutes by default). Visible ASCII, up to
            255 characters; a UUID is a good key.
        body (AccountCreate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccountOut | ErrorResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
