import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_response import ErrorResponse
from ...models.page_lead_out import PageLeadOut
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    since: datetime.datetime | None | Unset = UNSET,
    form_id: None | str | Unset = UNSET,
    campaign_id: None | str | Unset = UNSET,
    advertiser_id: None | str | Unset = UNSET,
    has_email: bool | None | Unset = UNSET,
    has_phone: bool | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_since: None | str | Unset
    if isinstance(since, Unset):
        json_since = UNSET
    elif isinstance(since, datetime.datetime):
        json_since = since.isoformat()
    else:
        json_since = since
    params["since"] = json_since

    json_form_id: None | str | Unset
    if isinstance(form_id, Unset):
        json_form_id = UNSET
    else:
        json_form_id = form_id
    params["form_id"] = json_form_id

    json_campaign_id: None | str | Unset
    if isinstance(campaign_id, Unset):
        json_campaign_id = UNSET
    else:
        json_campaign_id = campaign_id
    params["campaign_id"] = json_campaign_id

    json_advertiser_id: None | str | Unset
    if isinstance(advertiser_id, Unset):
        json_advertiser_id = UNSET
    else:
        json_advertiser_id = advertiser_id
    params["advertiser_id"] = json_advertiser_id

    json_has_email: bool | None | Unset
    if isinstance(has_email, Unset):
        json_has_email = UNSET
    else:
        json_has_email = has_email
    params["has_email"] = json_has_email

    json_has_phone: bool | None | Unset
    if isinstance(has_phone, Unset):
        json_has_phone = UNSET
    else:
        json_has_phone = has_phone
    params["has_phone"] = json_has_phone

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
        "url": "/api/integrations/leads/",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorResponse | PageLeadOut | None:
    if response.status_code == 200:
        response_200 = PageLeadOut.from_dict(response.json())

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
) -> Response[ErrorResponse | PageLeadOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | None | Unset = UNSET,
    form_id: None | str | Unset = UNSET,
    campaign_id: None | str | Unset = UNSET,
    advertiser_id: None | str | Unset = UNSET,
    has_email: bool | None | Unset = UNSET,
    has_phone: bool | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[ErrorResponse | PageLeadOut]:
    """The company's leads, newest submission first

     Keyset-paginated over (`submitted_at`, `id`), newest first. Leads of an advertiser no company has
    connected yet are not listed until it is connected.

    Args:
        since (datetime.datetime | None | Unset): Submitted at or after (ISO 8601 with zone)
        form_id (None | str | Unset):
        campaign_id (None | str | Unset):
        advertiser_id (None | str | Unset):
        has_email (bool | None | Unset): Only leads with (or without) an email
        has_phone (bool | None | Unset): Only leads with (or without) a phone
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | PageLeadOut]
    """

    kwargs = _get_kwargs(
        since=since,
        form_id=form_id,
        campaign_id=campaign_id,
        advertiser_id=advertiser_id,
        has_email=has_email,
        has_phone=has_phone,
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
    since: datetime.datetime | None | Unset = UNSET,
    form_id: None | str | Unset = UNSET,
    campaign_id: None | str | Unset = UNSET,
    advertiser_id: None | str | Unset = UNSET,
    has_email: bool | None | Unset = UNSET,
    has_phone: bool | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> ErrorResponse | PageLeadOut | None:
    """The company's leads, newest submission first

     Keyset-paginated over (`submitted_at`, `id`), newest first. Leads of an advertiser no company has
    connected yet are not listed until it is connected.

    Args:
        since (datetime.datetime | None | Unset): Submitted at or after (ISO 8601 with zone)
        form_id (None | str | Unset):
        campaign_id (None | str | Unset):
        advertiser_id (None | str | Unset):
        has_email (bool | None | Unset): Only leads with (or without) an email
        has_phone (bool | None | Unset): Only leads with (or without) a phone
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | PageLeadOut
    """

    return sync_detailed(
        client=client,
        since=since,
        form_id=form_id,
        campaign_id=campaign_id,
        advertiser_id=advertiser_id,
        has_email=has_email,
        has_phone=has_phone,
        cursor=cursor,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | None | Unset = UNSET,
    form_id: None | str | Unset = UNSET,
    campaign_id: None | str | Unset = UNSET,
    advertiser_id: None | str | Unset = UNSET,
    has_email: bool | None | Unset = UNSET,
    has_phone: bool | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> Response[ErrorResponse | PageLeadOut]:
    """The company's leads, newest submission first

     Keyset-paginated over (`submitted_at`, `id`), newest first. Leads of an advertiser no company has
    connected yet are not listed until it is connected.

    Args:
        since (datetime.datetime | None | Unset): Submitted at or after (ISO 8601 with zone)
        form_id (None | str | Unset):
        campaign_id (None | str | Unset):
        advertiser_id (None | str | Unset):
        has_email (bool | None | Unset): Only leads with (or without) an email
        has_phone (bool | None | Unset): Only leads with (or without) a phone
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorResponse | PageLeadOut]
    """

    kwargs = _get_kwargs(
        since=since,
        form_id=form_id,
        campaign_id=campaign_id,
        advertiser_id=advertiser_id,
        has_email=has_email,
        has_phone=has_phone,
        cursor=cursor,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | None | Unset = UNSET,
    form_id: None | str | Unset = UNSET,
    campaign_id: None | str | Unset = UNSET,
    advertiser_id: None | str | Unset = UNSET,
    has_email: bool | None | Unset = UNSET,
    has_phone: bool | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    limit: int | Unset = 50,
) -> ErrorResponse | PageLeadOut | None:
    """The company's leads, newest submission first

     Keyset-paginated over (`submitted_at`, `id`), newest first. Leads of an advertiser no company has
    connected yet are not listed until it is connected.

    Args:
        since (datetime.datetime | None | Unset): Submitted at or after (ISO 8601 with zone)
        form_id (None | str | Unset):
        campaign_id (None | str | Unset):
        advertiser_id (None | str | Unset):
        has_email (bool | None | Unset): Only leads with (or without) an email
        has_phone (bool | None | Unset): Only leads with (or without) a phone
        cursor (None | str | Unset): `next_cursor` of the previous page
        limit (int | Unset): Page size Default: 50.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorResponse | PageLeadOut
    """

    return (
        await asyncio_detailed(
            client=client,
            since=since,
            form_id=form_id,
            campaign_id=campaign_id,
            advertiser_id=advertiser_id,
            has_email=has_email,
            has_phone=has_phone,
            cursor=cursor,
            limit=limit,
        )
    ).parsed
