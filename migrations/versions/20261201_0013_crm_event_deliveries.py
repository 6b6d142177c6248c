"""CRM deliveries of every event: crm_lead_deliveries.event_id, lead_id nullable

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 18:00:00

Every event type is delivered now (`app.events.outbox` writes a delivery with its event):
a row names its event (`event_id`, also its id and `webhook-id`; null on rows enqueued
before this revision) and, for `lead.created` only, its lead (`lead_id`, now nullable; the
unique (lead_id, event_type) keeps one delivery per lead).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crm_lead_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.Uuid(), nullable=True))
        batch_op.alter_column("lead_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_crm_lead_deliveries_event_id"), ["event_id"]
        )


def downgrade() -> None:
    # Deliveries of events other than a lead's have no place in the older table.
    op.execute(sa.text("DELETE FROM crm_lead_deliveries WHERE lead_id IS NULL"))
    with op.batch_alter_table("crm_lead_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_crm_lead_deliveries_event_id"), type_="unique")
        batch_op.alter_column("lead_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("event_id")
