"""TikTok webhook events (each distinct delivery stored once, with its processing state)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 23:03:45.898895
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tiktok_webhook_events',
    sa.Column('dedupe_key', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=128), nullable=True),
    sa.Column('user_openid', sa.String(length=255), nullable=True),
    sa.Column('client_key', sa.String(length=255), nullable=True),
    sa.Column('create_time', sa.BigInteger(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('received', 'processed', 'rejected', 'failed', name='webhookeventstatus', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiktok_webhook_events')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_tiktok_webhook_events_dedupe_key'))
    )
    with op.batch_alter_table('tiktok_webhook_events', schema=None) as batch_op:
        batch_op.create_index('ix_tiktok_webhook_events_status_received', ['status', 'received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tiktok_webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_tiktok_webhook_events_status_received')

    op.drop_table('tiktok_webhook_events')
