"""Integration accounts and their audit log

Revision ID: 0001
Revises:
Create Date: 2026-11-24 22:39:17.776193
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('integration_accounts',
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('platform', sa.Enum('tiktok', 'tiktok_ads', name='platform', native_enum=False, length=16), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.Enum('pending', 'connected', 'disconnected', 'reauth_required', 'error', name='accountstatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=True),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('union_id', sa.String(length=255), nullable=True),
    sa.Column('username', sa.String(length=255), nullable=True),
    sa.Column('display_name', sa.String(length=255), nullable=True),
    sa.Column('avatar_url', sa.Text(), nullable=True),
    sa.Column('access_token_ciphertext', sa.Text(), nullable=True),
    sa.Column('access_token_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refresh_token_ciphertext', sa.Text(), nullable=True),
    sa.Column('refresh_token_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('granted_scopes', sa.Text(), nullable=True),
    sa.Column('connected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disconnected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error_code', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_accounts'))
    )
    with op.batch_alter_table('integration_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_integration_accounts_company_created', ['company_id', 'created_at'], unique=False)
        batch_op.create_index('ix_integration_accounts_platform_external', ['platform', 'external_id'], unique=False)

    op.create_table('integration_logs',
    sa.Column('company_id', sa.String(length=64), nullable=True),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('actor', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['integration_accounts.id'], name=op.f('fk_integration_logs_account_id_integration_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_logs'))
    )
    with op.batch_alter_table('integration_logs', schema=None) as batch_op:
        batch_op.create_index('ix_integration_logs_company_account_created', ['company_id', 'account_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('integration_logs', schema=None) as batch_op:
        batch_op.drop_index('ix_integration_logs_company_account_created')

    op.drop_table('integration_logs')
    with op.batch_alter_table('integration_accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_integration_accounts_platform_external')
        batch_op.drop_index('ix_integration_accounts_company_created')

    op.drop_table('integration_accounts')
