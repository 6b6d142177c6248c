from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.lead_probe_out import LeadProbeOut
from ...models.probe_request import ProbeRequest
from ...types import Response


def _get_kwargs(
    account_id: UUID,
    *,
    body: ProbeRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/integrations/accounts/{account_id}/leads/probe/".format(
            account_id=quote(str(account_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | LeadProbeOut | None:
    if response.status_code == 200:
        response_200 = LeadProbeOut.from_dict(response.json())

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

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())

        return response_413

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
) -> Response[ErrorResponse | LeadProbeOut]:
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
    body: ProbeRequest,
) -> Response[ErrorResponse | LeadProbeOut]:
    """Probe a form end to end: a test lead at TikTok, and how fast it reached us

     Makes a test lead on the form with TikTok's mock-lead API, waits (up to
    `LEADS_PROBE_TIMEOUT_SECONDS`) for it to arrive by webhook, else reads it from the form's lead
    export, reports how long that took (and, with `deliver`, whether the CRM acknowledged it), then
    deletes the test lead at TikTok. The test lead is stored marked as a test and not announced as
    `lead.created` unless `deliver` is set.

    Args:
        account_id (UUID):
        body (ProbeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | LeadProbeOut]
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
    body: ProbeRequest,
) -> ErrorResponse | LeadProbeOut | None:
    """Probe a form end to end: a test lead at TikTok, and how fast it reached us

     Makes a test lead on the form with TikTok's mock-lead API, waits (up to
    `LEADS_PROBE_TIMEOUT_SECONDS`) for it to arrive by webhook, else reads it from the form's lead
    export, reports how long that took (and, with `deliver`, whether the CRM acknowledged it), then
    deletes the test lead at TikTok. The test lead is stored marked as a test and not announced as
    `lead.created` unless `deliver` is set.

    Args:
        account_id (UUID):
        body (ProbeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | LeadProbeOut
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
    body: ProbeRequest,
) -> Response[ErrorResponse | LeadProbeOut]:
    """Probe a form end to end: a test lead at TikTok, and how fast it reached us

     Makes a test lead on the form with TikTok's mock-lead API, waits (up to
    `LEADS_PROBE_TIMEOUT_SECONDS`) for it to arrive by webhook, else reads it from the form's lead
    export, reports how long that took (and, with `deliver`, whether the CRM acknowledged it), then
    deletes the test lead at TikTok. The test lead is stored marked as a test and not announced as
    `lead.created` unless `deliver` is set.

    Args:
        account_id (UUID):
        body (ProbeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | LeadProbeOut]
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
    body: ProbeRequest,
) -> ErrorResponse | LeadProbeOut | None:
    """Probe a form end to end: a test lead at TikTok, and how fast it reached us

     Makes a test lead on the form with TikTok's mock-lead API, waits (up to
    `LEADS_PROBE_TIMEOUT_SECONDS`) for it to arrive by webhook, else reads it from the form's lead
    export, reports how long that took (and, with `deliver`, whether the CRM acknowledged it), then
    deletes the test lead at TikTok. The test lead is stored marked as a test and not announced as
    `lead.created` unless `deliver` is set.

    Args:
        account_id (UUID):
        body (ProbeRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | LeadProbeOut
    """

    return (
        await asyncio_detailed(
            account_id=account_id,
            client=client,
            body=body,
        )
    ).parsed
