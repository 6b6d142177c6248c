"""One webhook inbox: lead webhook deliveries become rows of the inbox (source `tiktok_leadgen`)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:23:56
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEAD_COLUMNS = (
    'id, body, status, reason, received_at, auth_method, signature_form, entry_count, '
    'new_lead_count'
)


def _hex_id() -> str:
    # The inbox's dedupe key of a moved delivery: its id as 32 hex digits (how SQLite
    # already stores a UUID).
    return "replace(CAST(id AS TEXT), '-', '')" if op.get_bind().dialect.name == 'postgresql' else 'id'


def upgrade() -> None:
    with op.batch_alter_table('tiktok_webhook_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.Enum('tiktok', 'tiktok_leadgen', name='webhooksource', native_enum=False, length=32), server_default='tiktok', nullable=False))
        batch_op.add_column(sa.Column('auth_method', sa.Enum('open_signature', 'tiktok_signature', 'url_token', name='leadwebhookauth', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('signature_form', sa.Enum('raw', 'unicode_escaped', name='leadsignatureform', native_enum=False, length=16), nullable=True))
        batch_op.add_column(sa.Column('entry_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('new_lead_count', sa.Integer(), nullable=True))

    # Every stored lead delivery moves into the inbox, settled (its leads were announced
    # when it was received).
    op.execute(
        'INSERT INTO tiktok_webhook_events '
        f'(source, dedupe_key, attempts, processed_at, {_LEAD_COLUMNS}) '
        f"SELECT 'tiktok_leadgen', {_hex_id()}, 0, received_at, {_LEAD_COLUMNS} "
        'FROM tiktok_lead_webhook_deliveries'
    )
    with op.batch_alter_table('tiktok_lead_webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tiktok_lead_webhook_deliveries_received'))
    op.drop_table('tiktok_lead_webhook_deliveries')

    with op.batch_alter_table('tiktok_leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('webhook_event_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tiktok_leads_webhook_event_id'), ['webhook_event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tiktok_leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tiktok_leads_webhook_event_id'))
        batch_op.drop_column('webhook_event_id')

    op.create_table('tiktok_lead_webhook_deliveries',
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('auth_method', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('new_lead_count', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('signature_form', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tiktok_lead_webhook_deliveries'))
    )
    with op.batch_alter_table('tiktok_lead_webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tiktok_lead_webhook_deliveries_received'), ['received_at'], unique=False)
    # Back to the old statuses: a delivery still waiting for its inbox pass had its leads
    # stored, which the old table called processed.
    op.execute(
        f'INSERT INTO tiktok_lead_webhook_deliveries ({_LEAD_COLUMNS}) '
        "SELECT id, body, CASE WHEN status IN ('received', 'failed') THEN 'processed' "
        'ELSE status END, reason, received_at, auth_method, signature_form, '
        'COALESCE(entry_count, 0), COALESCE(new_lead_count, 0) '
        "FROM tiktok_webhook_events WHERE source = 'tiktok_leadgen'"
    )
    op.execute("DELETE FROM tiktok_webhook_events WHERE source = 'tiktok_leadgen'")

    with op.batch_alter_table('tiktok_webhook_events', schema=None) as batch_op:
        batch_op.drop_column('new_lead_count')
        batch_op.drop_column('entry_count')
        batch_op.drop_column('signature_form')
        batch_op.drop_column('auth_method')
        batch_op.drop_column('source')
