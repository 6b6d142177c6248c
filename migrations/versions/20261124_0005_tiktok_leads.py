"""TikTok leads: advertisers (lead ownership), leads, raw lead webhooks, CRM delivery outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 23:23:27.435498
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tiktok_lead_webhook_deliveries',
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('auth_method', sa.Enum('open_signature', 'tiktok_signature', 'url_token', name='leadwebhookauth', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('processed', 'ignored', 'rejected', name='leadwebhookstatus', native_enum=False, length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('new_lead_count', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiktok_lead_webhook_deliveries'))
    )
    with op.batch_alter_table('tiktok_lead_webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_tiktok_lead_webhook_deliveries_received', ['received_at'], unique=False)

    op.create_table('tiktok_leads',
    sa.Column('company_id', sa.String(length=64), nullable=True),
    sa.Column('tiktok_lead_id', sa.String(length=32), nullable=False),
    sa.Column('advertiser_id', sa.String(length=32), nullable=True),
    sa.Column('advertiser_name', sa.String(length=255), nullable=True),
    sa.Column('form_id', sa.String(length=32), nullable=True),
    sa.Column('form_name', sa.String(length=255), nullable=True),
    sa.Column('campaign_id', sa.String(length=32), nullable=True),
    sa.Column('campaign_name', sa.String(length=255), nullable=True),
    sa.Column('adgroup_id', sa.String(length=32), nullable=True),
    sa.Column('adgroup_name', sa.String(length=255), nullable=True),
    sa.Column('ad_id', sa.String(length=32), nullable=True),
    sa.Column('ad_name', sa.String(length=255), nullable=True),
    sa.Column('lead_source', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('first_name', sa.String(length=255), nullable=True),
    sa.Column('last_name', sa.String(length=255), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('answers', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('raw', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('source', sa.Enum('webhook', 'backfill', name='leadsource', native_enum=False, length=16), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiktok_leads')),
    sa.UniqueConstraint('tiktok_lead_id', name=op.f('uq_tiktok_leads_tiktok_lead_id'))
    )
    with op.batch_alter_table('tiktok_leads', schema=None) as batch_op:
        batch_op.create_index('ix_tiktok_leads_advertiser', ['advertiser_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_tiktok_leads_company_campaign', ['company_id', 'campaign_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_tiktok_leads_company_form', ['company_id', 'form_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_tiktok_leads_company_submitted', ['company_id', 'submitted_at', 'id'], unique=False)

    op.create_table('crm_lead_deliveries',
    sa.Column('lead_id', sa.Uuid(), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivering', 'delivered', 'dead', name='deliverystatus', native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['tiktok_leads.id'], name=op.f('fk_crm_lead_deliveries_lead_id_tiktok_leads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_lead_deliveries')),
    sa.UniqueConstraint('lead_id', 'event_type', name=op.f('uq_crm_lead_deliveries_lead_id_event_type'))
    )
    with op.batch_alter_table('crm_lead_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_crm_lead_deliveries_company_status', ['company_id', 'status', 'created_at'], unique=False)
        batch_op.create_index('ix_crm_lead_deliveries_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('tiktok_advertisers',
    sa.Column('advertiser_id', sa.String(length=32), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('advertiser_name', sa.String(length=255), nullable=True),
    sa.Column('subscription_id', sa.String(length=64), nullable=True),
    sa.Column('subscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['integration_accounts.id'], name=op.f('fk_tiktok_advertisers_account_id_integration_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiktok_advertisers')),
    sa.UniqueConstraint('advertiser_id', name=op.f('uq_tiktok_advertisers_advertiser_id'))
    )
    with op.batch_alter_table('tiktok_advertisers', schema=None) as batch_op:
        batch_op.create_index('ix_tiktok_advertisers_account_id', ['account_id'], unique=False)
        batch_op.create_index('ix_tiktok_advertisers_company', ['company_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tiktok_advertisers', schema=None) as batch_op:
        batch_op.drop_index('ix_tiktok_advertisers_company')
        batch_op.drop_index('ix_tiktok_advertisers_account_id')

    op.drop_table('tiktok_advertisers')
    with op.batch_alter_table('crm_lead_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_crm_lead_deliveries_due')
        batch_op.drop_index('ix_crm_lead_deliveries_company_status')

    op.drop_table('crm_lead_deliveries')
    with op.batch_alter_table('tiktok_leads', schema=None) as batch_op:
        batch_op.drop_index('ix_tiktok_leads_company_submitted')
        batch_op.drop_index('ix_tiktok_leads_company_form')
        batch_op.drop_index('ix_tiktok_leads_company_campaign')
        batch_op.drop_index('ix_tiktok_leads_advertiser')

    op.drop_table('tiktok_leads')
    with op.batch_alter_table('tiktok_lead_webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_tiktok_lead_webhook_deliveries_received')

    op.drop_table('tiktok_lead_webhook_deliveries')
