"""Events get their place in commit order (`seq`), which the feed pages by

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 17:15:56.732830
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_events_company_seq', ['company_id', 'seq'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_events_seq'), ['seq'])
    # Events already written are placed in creation order (they have all committed).
    op.execute(
        'UPDATE events SET seq = placed.n FROM (SELECT id, row_number() OVER '
        '(ORDER BY created_at, id) AS n FROM events) AS placed WHERE events.id = placed.id'
    )


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_events_seq'), type_='unique')
        batch_op.drop_index('ix_events_company_seq')
        batch_op.drop_column('seq')

