"""Consumed OAuth states (each state is usable once)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 22:54:55.146672
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('oauth_consumed_states',
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('state_hash', name=op.f('pk_oauth_consumed_states'))
    )


def downgrade() -> None:
    op.drop_table('oauth_consumed_states')
