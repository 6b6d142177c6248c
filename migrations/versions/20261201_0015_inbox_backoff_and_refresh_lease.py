"""Inbox rows get a due time (retry backoff); the token refresh claim gets a lease

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 20:00:00

- tiktok_webhook_events.next_attempt_at: when a `received` row is due (again). A new row is
  due when it was received; a failed attempt moves it by the inbox's backoff. Existing rows
  take their received time.
- integration_accounts.refresh_lease_until: the background refresh's claim leases the
  accounts it takes, so replicas refresh disjoint ones.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tiktok_webhook_events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True)
        )
    op.execute('UPDATE tiktok_webhook_events SET next_attempt_at = received_at')
    with op.batch_alter_table('tiktok_webhook_events', schema=None) as batch_op:
        batch_op.alter_column(
            'next_attempt_at', existing_type=sa.DateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table('integration_accounts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('refresh_lease_until', sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('integration_accounts', schema=None) as batch_op:
        batch_op.drop_column('refresh_lease_until')
    with op.batch_alter_table('tiktok_webhook_events', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')
