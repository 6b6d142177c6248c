from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.delivery_status import DeliveryStatus
from ...models.error_response import ErrorResponse
from ...models.event_type import EventType
from ...models.page_event_delivery_out import PageEventDeliveryOut
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    event_type: EventType | None | Unset = UNSET,
    status: DeliveryStatus | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_event_type: None | str | Unset
    if isinstance(event_type, Unset):
        json_event_type = UNSET
    elif isinstance(event_type, EventType):
        json_event_type = event_type.value
    else:
        json_event_type = event_type
    params["event_type"] = json_event_type

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, DeliveryStatus):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

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
        "url": "/api/integrations/events/deliveries/",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | PageEventDeliveryOut | None:
    if response.status_code == 200:
        response_200 = PageEventDeliveryOut.from_dict(response.json())

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
) -> Response[ErrorResponse | PageEventDeliveryOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    event_type: EventType | None | Unset = UNSET,
    status: DeliveryStatus | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[ErrorResponse | PageEventDeliveryOut]:
    """The company's CRM deliveries, newest first (dead letters with `status=dead`)

    Args:
        event_type (EventType | None | Unset):
        status (DeliveryStatus | None | Unset):
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | PageEventDeliveryOut]
    """

    kwargs = _get_kwargs(
        event_type=event_type,
        status=status,
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
    event_type: EventType | None | Unset = UNSET,
    status: DeliveryStatus | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> ErrorResponse | PageEventDeliveryOut | None:
    """The company's CRM deliveries, newest first (dead letters with `status=dead`)

    Args:
        event_type (EventType | None | Unset):
        status (DeliveryStatus | None | Unset):
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | PageEventDeliveryOut
    """

    return sync_detailed(
        client=client,
        event_type=event_type,
        status=status,
        cursor=cursor,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    event_type: EventType | None | Unset = UNSET,
    status: DeliveryStatus | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[ErrorResponse | PageEventDeliveryOut]:
    """The company's CRM deliveries, newest first (dead letters with `status=dead`)

    Args:
        event_type (EventType | None | Unset):
        status (DeliveryStatus | None | Unset):
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | PageEventDeliveryOut]
    """

    kwargs = _get_kwargs(
        event_type=event_type,
        status=status,
        cursor=cursor,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    event_type: EventType | None | Unset = UNSET,
    status: DeliveryStatus | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> ErrorResponse | PageEventDeliveryOut | None:
    """The company's CRM deliveries, newest first (dead letters with `status=dead`)

    Args:
        event_type (EventType | None | Unset):
        status (DeliveryStatus | None | Unset):
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | PageEventDeliveryOut
    """

    return (
        await asyncio_detailed(
            client=client,
            event_type=event_type,
            status=status,
            cursor=cursor,
            limit=limit,
        )
    ).parsed
