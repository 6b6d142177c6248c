"""Keyset (cursor) pagination over `(created_at, id)`, newest first.

A cursor is opaque to clients: URL-safe base64 of the last row's timestamp and id. A
cursor that does not decode is a 422 `invalid_cursor`, never a silent first page.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from app.core.errors import AppError

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class InvalidCursor(AppError):
    status_code = 422
    code = "invalid_cursor"
    message = "The cursor is not valid; start again without it."


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page")


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        parsed = datetime.fromisoformat(stamp)
        if parsed.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed, uuid.UUID(row_id)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise InvalidCursor from exc


def keyset_page(
    query: Select[Any],
    created_at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
    cursor: str | None,
    limit: int,
) -> Select[Any]:
    """Order newest first and start after `cursor`; fetches one extra row to detect more."""
    if cursor:
        stamp, last_id = decode_cursor(cursor)
        query = query.where(or_(created_at < stamp, and_(created_at == stamp, row_id < last_id)))
    return query.order_by(created_at.desc(), row_id.desc()).limit(limit + 1)


M = TypeVar("M", bound=BaseModel)


def page_of(
    rows: list[Any],
    limit: int,
    schema: type[M],
    *,
    stamp: str = "created_at",
    convert: Callable[[Any], M] | None = None,
) -> Page[M]:
    """Turn `keyset_page` rows (limit + 1 at most) into a page and its next cursor.

    `stamp` names the timestamp column the query was ordered by; `convert` builds an item
    when the schema is not a plain `model_validate` of the row.
    """
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], stamp), rows[-1].id) if more else None
    build = convert or schema.model_validate
    # `Page[schema]`, the class the route declares: pydantic caches it (the route holds it),
    # and FastAPI passes an instance of its own response model through without validating it
    # again. (`Page[M]` made a new generic class per call, and an instance FastAPI re-validated.)
    page: type[Page[M]] = Page[schema]  # type: ignore[valid-type]
    return page(items=[build(row) for row in rows], next_cursor=next_cursor)
