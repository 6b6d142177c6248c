"""Lead reconciliation (state on tiktok_advertisers, reports), lead probes, test leads

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 19:00:00

Each connected advertiser's lead export is compared with the stored leads every
LEADS_RECONCILE_INTERVAL_SECONDS (`app.ads.reconcile`): the advertiser row keeps when the
next run is due (null: one interval after it was connected), its lease while a worker runs
it and when the last one finished; each run writes a report row
(tiktok_lead_reconciliations). A probe (`POST /accounts/{id}/leads/probe/`) makes a test
lead with TikTok's mock-lead API and records how it arrived (tiktok_lead_probes); the lead
is stored marked `is_test`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('tiktok_advertisers', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('reconcile_due_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('reconcile_lease_until', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('reconciled_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('tiktok_lead_reconciliations',
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('advertiser_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Enum('running', 'succeeded', 'partial', 'failed', name='reconciliationstatus', native_enum=False, length=16), nullable=False),
    sa.Column('forms_checked', sa.Integer(), nullable=False),
    sa.Column('regions_checked', sa.Integer(), nullable=False),
    sa.Column('leads_seen', sa.Integer(), nullable=False),
    sa.Column('gaps_found', sa.Integer(), nullable=False),
    sa.Column('gaps_filled', sa.Integer(), nullable=False),
    sa.Column('gap_lead_ids', _JSON, nullable=False),
    sa.Column('errors', _JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['integration_accounts.id'], name=op.f('fk_tiktok_lead_reconciliations_account_id_integration_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiktok_lead_reconciliations'))
    )
    with op.batch_alter_table('tiktok_lead_reconciliations', schema=None) as batch_op:
        batch_op.create_index('ix_tiktok_lead_reconciliations_account_created', ['account_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tiktok_lead_reconciliations_advertiser_status', ['advertiser_id', 'status'], unique=False)

    with op.batch_alter_table('tiktok_leads', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_test', sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    op.create_table('tiktok_lead_probes',
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('advertiser_id', sa.String(length=32), nullable=False),
    sa.Column('form_id', sa.String(length=32), nullable=False),
    sa.Column('tiktok_lead_id', sa.String(length=32), nullable=True),
    sa.Column('deliver', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'arrived', 'missing', 'failed', name='probestatus', native_enum=False, length=16), nullable=False),
    sa.Column('arrived_by', sa.String(length=16), nullable=True),
    sa.Column('stored_seconds', sa.Double(), nullable=True),
    sa.Column('crm_acknowledged', sa.Boolean(), nullable=False),
    sa.Column('acknowledged_seconds', sa.Double(), nullable=True),
    sa.Column('mock_deleted', sa.Boolean(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['integration_accounts.id'], name=op.f('fk_tiktok_lead_probes_account_id_integration_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiktok_lead_probes'))
    )
    with op.batch_alter_table('tiktok_lead_probes', schema=None) as batch_op:
        batch_op.create_index('ix_tiktok_lead_probes_account_created', ['account_id', 'created_at'], unique=False)
        batch_op.create_index('ix_tiktok_lead_probes_form_status', ['form_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tiktok_lead_probes', schema=None) as batch_op:
        batch_op.drop_index('ix_tiktok_lead_probes_form_status')
        batch_op.drop_index('ix_tiktok_lead_probes_account_created')
    op.drop_table('tiktok_lead_probes')
    with op.batch_alter_table('tiktok_leads', schema=None) as batch_op:
        batch_op.drop_column('is_test')

    with op.batch_alter_table('tiktok_lead_reconciliations', schema=None) as batch_op:
        batch_op.drop_index('ix_tiktok_lead_reconciliations_advertiser_status')
        batch_op.drop_index('ix_tiktok_lead_reconciliations_account_created')
    op.drop_table('tiktok_lead_reconciliations')
    # Leads stored by reconciliation stay, as the nearest source the older code knows.
    op.execute(sa.text("UPDATE tiktok_leads SET source = 'backfill' WHERE source = 'reconciliation'"))
    with op.batch_alter_table('tiktok_advertisers', schema=None) as batch_op:
        batch_op.drop_column('reconciled_at')
        batch_op.drop_column('reconcile_lease_until')
        batch_op.drop_column('reconcile_due_at')
