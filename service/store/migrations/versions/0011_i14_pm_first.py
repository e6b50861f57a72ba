"""handovers.pm_needed_since: a handover waiting for Operations to assign its PM, since when

Revision ID: 0011_i14
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_i14"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handovers") as batch:
        batch.add_column(sa.Column("pm_needed_since", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_handovers_pm_needed_since", ["pm_needed_since"])


def downgrade() -> None:
    with op.batch_alter_table("handovers") as batch:
        batch.drop_index("ix_handovers_pm_needed_since")
        batch.drop_column("pm_needed_since")
