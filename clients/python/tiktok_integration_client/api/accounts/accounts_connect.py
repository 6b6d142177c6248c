from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.connect_in import ConnectIn
from ...models.connect_out import ConnectOut
from ...models.error_response import ErrorResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    account_id: UUID,
    *,
    body: ConnectIn | None | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/integrations/accounts/{account_id}/connect/".format(
            account_id=quote(str(account_id), safe=""),
        ),
    }

    if isinstance(body, ConnectIn):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConnectOut | ErrorResponse | None:
    if response.status_code == 200:
        response_200 = ConnectOut.from_dict(response.json())

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

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = ErrorResponse.from_dict(response.json())

        return response_422

    if response.status_code == 500:
        response_500 = ErrorResponse.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = ErrorResponse.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ConnectOut | ErrorResponse]:
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
    body: ConnectIn | None | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[ConnectOut | ErrorResponse]:
    """Start connecting a TikTok account (Login Kit, OAuth with PKCE) or a TikTok for Business advertiser
    (tiktok_ads)

    Args:
        account_id (UUID):
        idempotency_key (None | str | Unset): Makes a retry safe: a request with a key used in the
            last 24 h (by the same company, with the same body) is answered with the first answer
            instead of being run again (`Idempotent-Replayed: true`). A connect's key lasts as long as
            the link it answers (OAUTH_STATE_TTL_SECONDS, 10 minutes by default). Visible ASCII, up to
            255 characters; a UUID is a good key.
        body (ConnectIn | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectOut | ErrorResponse]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: ConnectIn | None | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> ConnectOut | ErrorResponse | None:
    """Start connecting a TikTok account (Login Kit, OAuth with PKCE) or a TikTok for Business advertiser
    (tiktok_ads)

    Args:
        account_id (UUID):
        idempotency_key (None | str | Unset): Makes a retry safe: a request with a key used in the
            last 24 h (by the same company, with the same body) is answered with the first answer
            instead of being run again (`Idempotent-Replayed: true`). A connect's key lasts as long as
            the link it answers (OAUTH_STATE_TTL_SECONDS, 10 minutes by default). Visible ASCII, up to
            255 characters; a UUID is a good key.
        body (ConnectIn | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectOut | ErrorResponse
    """

    return sync_detailed(
        account_id=account_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: ConnectIn | None | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[ConnectOut | ErrorResponse]:
    """Start connecting a TikTok account (Login Kit, OAuth with PKCE) or a TikTok for Business advertiser
    (tiktok_ads)

    Args:
        account_id (UUID):
        idempotency_key (None | str | Unset): Makes a retry safe: a request with a key used in the
            last 24 h (by the same company, with the same body) is answered with the first answer
            instead of being run again (`Idempotent-Replayed: true`). A connect's key lasts as long as
            the link it answers (OAUTH_STATE_TTL_SECONDS, 10 minutes by default). Visible ASCII, up to
            255 characters; a UUID is a good key.
        body (ConnectIn | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConnectOut | ErrorResponse]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: ConnectIn | None | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> ConnectOut | ErrorResponse | None:
    """Start connecting a TikTok account (Login Kit, OAuth with PKCE) or a TikTok for Business advertiser
    (tiktok_ads)

    Args:
        account_id (UUID):
        idempotency_key (None | str | Unset): Makes a retry safe: a request with a key used in the
            last 24 h (by the same company, with the same body) is answered with the first answer
            instead of being run again (`Idempotent-Replayed: true`). A connect's key lasts as long as
            the link it answers (OAUTH_STATE_TTL_SECONDS, 10 minutes by default). Visible ASCII, up to
            255 characters; a UUID is a good key.
        body (ConnectIn | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConnectOut | ErrorResponse
    """

    return (
        await asyncio_detailed(
            account_id=account_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
