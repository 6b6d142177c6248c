from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.event_feed import EventFeed
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    after: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_after: None | str | Unset
    if isinstance(after, Unset):
        json_after = UNSET
    else:
        json_after = after
    params["after"] = json_after

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/integrations/events/",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | EventFeed | None:
    if response.status_code == 200:
        response_200 = EventFeed.from_dict(response.json())

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
) -> Response[ErrorResponse | EventFeed]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[ErrorResponse | EventFeed]:
    """The company's events in commit order (a feed to catch up from)

     In the order the events committed. Start without `after`, then pass the answer's `next_cursor` as
    `after`; keep the last cursor to resume later (it stays valid when `has_more` is false: newer events
    follow it). An event is listed once the sequencer has given it its place, about a second after it
    commits; places follow commit order, so resuming from a cursor never skips an event. Every event is
    also pushed to `CRM_WEBHOOK_URL`.

    Args:
        after (None | str | Unset): `next_cursor` of the previous answer
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | EventFeed]
    """

    kwargs = _get_kwargs(
        after=after,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> ErrorResponse | EventFeed | None:
    """The company's events in commit order (a feed to catch up from)

     In the order the events committed. Start without `after`, then pass the answer's `next_cursor` as
    `after`; keep the last cursor to resume later (it stays valid when `has_more` is false: newer events
    follow it). An event is listed once the sequencer has given it its place, about a second after it
    commits; places follow commit order, so resuming from a cursor never skips an event. Every event is
    also pushed to `CRM_WEBHOOK_URL`.

    Args:
        after (None | str | Unset): `next_cursor` of the previous answer
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | EventFeed
    """

    return sync_detailed(
        client=client,
        after=after,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[ErrorResponse | EventFeed]:
    """The company's events in commit order (a feed to catch up from)

     In the order the events committed. Start without `after`, then pass the answer's `next_cursor` as
    `after`; keep the last cursor to resume later (it stays valid when `has_more` is false: newer events
    follow it). An event is listed once the sequencer has given it its place, about a second after it
    commits; places follow commit order, so resuming from a cursor never skips an event. Every event is
    also pushed to `CRM_WEBHOOK_URL`.

    Args:
        after (None | str | Unset): `next_cursor` of the previous answer
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | EventFeed]
    """

    kwargs = _get_kwargs(
        after=after,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    after: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> ErrorResponse | EventFeed | None:
    """The company's events in commit order (a feed to catch up from)

     In the order the events committed. Start without `after`, then pass the answer's `next_cursor` as
    `after`; keep the last cursor to resume later (it stays valid when `has_more` is false: newer events
    follow it). An event is listed once the sequencer has given it its place, about a second after it
    commits; places follow commit order, so resuming from a cursor never skips an event. Every event is
    also pushed to `CRM_WEBHOOK_URL`.

    Args:
        after (None | str | Unset): `next_cursor` of the previous answer
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | EventFeed
    """

    return (
        await asyncio_detailed(
            client=client,
            after=after,
            limit=limit,
        )
    ).parsed
