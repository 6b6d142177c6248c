"""TikTok ads: lead backfill jobs, lead webhook subscription checks per advertiser

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 23:34:36.780705
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tiktok_lead_backfills',
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('form_id', sa.String(length=32), nullable=True),
    sa.Column('status', sa.Enum('queued', 'running', 'succeeded', 'failed', name='backfillstatus', native_enum=False, length=16), nullable=False),
    sa.Column('forms_total', sa.Integer(), nullable=False),
    sa.Column('forms_done', sa.Integer(), nullable=False),
    sa.Column('leads_seen', sa.Integer(), nullable=False),
    sa.Column('leads_created', sa.Integer(), nullable=False),
    sa.Column('completed_forms', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['integration_accounts.id'], name=op.f('fk_tiktok_lead_backfills_account_id_integration_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiktok_lead_backfills'))
    )
    with op.batch_alter_table('tiktok_lead_backfills', schema=None) as batch_op:
        batch_op.create_index('ix_tiktok_lead_backfills_account_created', ['account_id', 'created_at'], unique=False)
        batch_op.create_index('ix_tiktok_lead_backfills_due', ['status', 'created_at'], unique=False)

    op.create_table('tiktok_subscription_checks',
    sa.Column('advertiser_id', sa.String(length=32), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['advertiser_id'], ['tiktok_advertisers.advertiser_id'], name=op.f('fk_tiktok_subscription_checks_advertiser_id_tiktok_advertisers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('advertiser_id', name=op.f('pk_tiktok_subscription_checks'))
    )


def downgrade() -> None:
    op.drop_table('tiktok_subscription_checks')
    with op.batch_alter_table('tiktok_lead_backfills', schema=None) as batch_op:
        batch_op.drop_index('ix_tiktok_lead_backfills_due')
        batch_op.drop_index('ix_tiktok_lead_backfills_account_created')

    op.drop_table('tiktok_lead_backfills')
