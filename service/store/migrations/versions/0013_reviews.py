"""Reviews people can run: who uploaded each draft, when the decision was told (and an
index for the sweep's look for decisions not told yet), and an index for the count of
open reviews due per Project Manager (the nav badge).

Revision ID: 0013_reviews
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_reviews"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contract_reviews") as batch:
        batch.add_column(sa.Column("uploaded_by", sa.String(254), nullable=True))
        batch.add_column(sa.Column("uploaded_by_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("decision_told_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("drive_seen_files") as batch:
        batch.add_column(sa.Column("modified_by", sa.String(254), nullable=True))
        batch.add_column(sa.Column("modified_by_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("top_folder", sa.String(200), nullable=True))
    # Decisions made before this revision were never emailed: the sweep must not send
    # them now, as if they were new.
    op.execute(
        "UPDATE contract_reviews SET decision_told_at = decided_at WHERE decided_at IS NOT NULL"
    )
    op.create_index(
        "ix_contract_reviews_untold",
        "contract_reviews",
        ["decision_told_at", "decided_at"],
        unique=False,
    )
    op.create_table(
        "draft_uploads",
        sa.Column("upload_key", sa.String(100), primary_key=True),
        sa.Column("file_id", sa.String(200), nullable=True),
        sa.Column("uploaded_by", sa.String(254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_contract_reviews_due",
        "contract_reviews",
        ["state", "pm_email", "deadline"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("draft_uploads")
    op.drop_index("ix_contract_reviews_due", table_name="contract_reviews")
    op.drop_index("ix_contract_reviews_untold", table_name="contract_reviews")
    with op.batch_alter_table("drive_seen_files") as batch:
        batch.drop_column("top_folder")
        batch.drop_column("modified_by_name")
        batch.drop_column("modified_by")
    with op.batch_alter_table("contract_reviews") as batch:
        batch.drop_column("decision_told_at")
        batch.drop_column("uploaded_by_name")
        batch.drop_column("uploaded_by")
