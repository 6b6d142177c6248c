"""Idempotency keys of POST /accounts/ and connect; the CRM's labels on accounts (metadata, external_ref)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("company_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("company_id", "key", name=op.f("uq_idempotency_keys_company_id_key")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_keys_expires_at", ["expires_at"], unique=False)

    with op.batch_alter_table("integration_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_ref", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column(
                "metadata", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
            )
        )
        batch_op.create_index(
            "ix_integration_accounts_company_external_ref",
            ["company_id", "external_ref"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("integration_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_integration_accounts_company_external_ref")
        batch_op.drop_column("metadata")
        batch_op.drop_column("external_ref")

    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_keys_expires_at")

    op.drop_table("idempotency_keys")
