"""TikTok profile fields on accounts and stats snapshots

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 23:01:05.695324
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tiktok_stats_snapshots',
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('follower_count', sa.BigInteger(), nullable=True),
    sa.Column('following_count', sa.BigInteger(), nullable=True),
    sa.Column('likes_count', sa.BigInteger(), nullable=True),
    sa.Column('video_count', sa.BigInteger(), nullable=True),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['integration_accounts.id'], name=op.f('fk_tiktok_stats_snapshots_account_id_integration_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiktok_stats_snapshots'))
    )
    with op.batch_alter_table('tiktok_stats_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_tiktok_stats_snapshots_account_captured', ['account_id', 'captured_at'], unique=False)

    with op.batch_alter_table('integration_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('avatar_large_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('bio_description', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('profile_deep_link', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('is_verified', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('profile_synced_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sync_lease_until', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('integration_accounts', schema=None) as batch_op:
        batch_op.drop_column('sync_lease_until')
        batch_op.drop_column('profile_synced_at')
        batch_op.drop_column('is_verified')
        batch_op.drop_column('profile_deep_link')
        batch_op.drop_column('bio_description')
        batch_op.drop_column('avatar_large_url')

    with op.batch_alter_table('tiktok_stats_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_tiktok_stats_snapshots_account_captured')

    op.drop_table('tiktok_stats_snapshots')
