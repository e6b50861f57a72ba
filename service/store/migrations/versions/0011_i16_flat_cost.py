"""Indexes that keep per-request cost flat: the home page's newest-first pages of handovers
and the sync's look for reviews whose outside share is not yet alerted.

Revision ID: 0011_i16
Revises: 0010
Create Date: 2026-12-04
"""

from alembic import op

revision = "0011_i16"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_handovers_created", "handovers", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_contract_reviews_flagged", "contract_reviews", ["flagged_external_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_contract_reviews_flagged", table_name="contract_reviews")
    op.drop_index("ix_handovers_created", table_name="handovers")
