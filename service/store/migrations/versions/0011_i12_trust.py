"""handovers.idempotency_body, account_pending_since: idempotency keys bound to their body;
a handover for an existing account by someone not on it waits for Operations

Revision ID: 0011_i12
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_i12"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handovers") as batch:
        batch.add_column(sa.Column("idempotency_body", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("account_pending_since", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("handovers") as batch:
        batch.drop_column("account_pending_since")
        batch.drop_column("idempotency_body")
