from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.backfill_job_out import BackfillJobOut
from ...models.backfill_request import BackfillRequest
from ...models.error_response import ErrorResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    account_id: UUID,
    *,
    body: BackfillRequest | None | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/integrations/accounts/{account_id}/leads/backfill/".format(
            account_id=quote(str(account_id), safe=""),
        ),
    }

    if isinstance(body, BackfillRequest):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BackfillJobOut | ErrorResponse | None:
    if response.status_code == 202:
        response_202 = BackfillJobOut.from_dict(response.json())

        return response_202

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
) -> Response[BackfillJobOut | ErrorResponse]:
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
    body: BackfillRequest | None | Unset = UNSET,
) -> Response[BackfillJobOut | ErrorResponse]:
    """Recover missed leads from TikTok's lead export (runs in the background)

     Queues a job that exports every form of every advertiser of the account (or the one `form_id`) in
    every lead region and stores the leads not stored yet. While a backfill of the account is queued or
    running, that job is answered.

    Args:
        account_id (UUID):
        body (BackfillRequest | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackfillJobOut | ErrorResponse]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: BackfillRequest | None | Unset = UNSET,
) -> BackfillJobOut | ErrorResponse | None:
    """Recover missed leads from TikTok's lead export (runs in the background)

     Queues a job that exports every form of every advertiser of the account (or the one `form_id`) in
    every lead region and stores the leads not stored yet. While a backfill of the account is queued or
    running, that job is answered.

    Args:
        account_id (UUID):
        body (BackfillRequest | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackfillJobOut | ErrorResponse
    """

    return sync_detailed(
        account_id=account_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: BackfillRequest | None | Unset = UNSET,
) -> Response[BackfillJobOut | ErrorResponse]:
    """Recover missed leads from TikTok's lead export (runs in the background)

     Queues a job that exports every form of every advertiser of the account (or the one `form_id`) in
    every lead region and stores the leads not stored yet. While a backfill of the account is queued or
    running, that job is answered.

    Args:
        account_id (UUID):
        body (BackfillRequest | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BackfillJobOut | ErrorResponse]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: BackfillRequest | None | Unset = UNSET,
) -> BackfillJobOut | ErrorResponse | None:
    """Recover missed leads from TikTok's lead export (runs in the background)

     Queues a job that exports every form of every advertiser of the account (or the one `form_id`) in
    every lead region and stores the leads not stored yet. While a backfill of the account is queued or
    running, that job is answered.

    Args:
        account_id (UUID):
        body (BackfillRequest | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BackfillJobOut | ErrorResponse
    """

    return (
        await asyncio_detailed(
            account_id=account_id,
            client=client,
            body=body,
        )
    ).parsed
