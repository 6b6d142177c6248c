"""Lead webhook deliveries record which form their signature covered (raw or unicode-escaped)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 13:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tiktok_lead_webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature_form', sa.Enum('raw', 'unicode_escaped', name='leadsignatureform', native_enum=False, length=16), nullable=True))

    # Until now a signature was only ever verified over the raw body.
    op.execute(
        "UPDATE tiktok_lead_webhook_deliveries SET signature_form = 'raw' "
        "WHERE auth_method IN ('open_signature', 'tiktok_signature')"
    )


def downgrade() -> None:
    with op.batch_alter_table('tiktok_lead_webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_column('signature_form')
