"""accounts.folder_lost_at, contracts_lost_at: an account folder trashed or deleted in Drive

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("folder_lost_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("contracts_lost_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("contracts_lost_at")
        batch.drop_column("folder_lost_at")
