"""Advertisers keep their subscription checker's state (tiktok_subscription_checks folded in)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-01 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATE = ('checked_at', 'lease_until', 'last_error')


def upgrade() -> None:
    with op.batch_alter_table('tiktok_advertisers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=64), nullable=True))

    # Correlated subqueries: the same UPDATE on SQLite and PostgreSQL.
    assignments = ', '.join(
        f'{column} = (SELECT c.{column} FROM tiktok_subscription_checks c '
        'WHERE c.advertiser_id = tiktok_advertisers.advertiser_id)'
        for column in _STATE
    )
    op.execute(
        f'UPDATE tiktok_advertisers SET {assignments} '
        'WHERE advertiser_id IN (SELECT advertiser_id FROM tiktok_subscription_checks)'
    )
    op.drop_table('tiktok_subscription_checks')


def downgrade() -> None:
    # The foreign key comes last: on SQLite, dropping the columns rebuilds
    # tiktok_advertisers, and dropping the old copy would cascade into a table that
    # already referenced it.
    op.create_table('tiktok_subscription_checks',
    sa.Column('advertiser_id', sa.String(length=32), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('advertiser_id', name=op.f('pk_tiktok_subscription_checks'))
    )
    columns = ', '.join(_STATE)
    op.execute(
        f'INSERT INTO tiktok_subscription_checks (advertiser_id, {columns}) '
        f'SELECT advertiser_id, {columns} FROM tiktok_advertisers '
        'WHERE ' + ' OR '.join(f'{column} IS NOT NULL' for column in _STATE)
    )
    with op.batch_alter_table('tiktok_advertisers', schema=None) as batch_op:
        batch_op.drop_column('last_error')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('checked_at')

    with op.batch_alter_table('tiktok_subscription_checks', schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f('fk_tiktok_subscription_checks_advertiser_id_tiktok_advertisers'),
            'tiktok_advertisers', ['advertiser_id'], ['advertiser_id'], ondelete='CASCADE',
        )
