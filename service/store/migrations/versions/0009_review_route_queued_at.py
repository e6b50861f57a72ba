"""contract_reviews.route_queued_at: when a sync last queued the draft's routing

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contract_reviews") as batch:
        batch.add_column(sa.Column("route_queued_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contract_reviews") as batch:
        batch.drop_column("route_queued_at")
