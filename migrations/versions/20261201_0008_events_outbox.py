"""The events outbox: what the CRM is told (account lifecycle, leads), written with each change

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:36:17
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('company_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.Enum('account.connected', 'account.disconnected', 'account.reauth_required', 'account.deleted', 'leads.subscription_lost', 'leads.subscription_restored', 'lead.created', name='eventtype', native_enum=False, length=64), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_company_created', ['company_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_company_created')

    op.drop_table('events')
