"""API shapes of the audit timeline."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class LogEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID | None
    event: str
    level: str
    message: str
    data: dict[str, Any]
    actor: str | None
    created_at: datetime
