"""Consumed OAuth states: makes each state usable once without a session store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class ConsumedOAuthState(Base):
    __tablename__ = "oauth_consumed_states"

    # SHA-256 of the state, never the state itself.
    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]
