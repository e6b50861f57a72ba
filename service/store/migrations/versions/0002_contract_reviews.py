"""contract reviews, seen drive files, drive sync state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_reviews",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("file_id", sa.String(length=200), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("mime_type", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("web_url", sa.String(length=2000), nullable=False),
        sa.Column("folder_id", sa.String(length=200), nullable=False),
        sa.Column("account_key", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("can_start_approval", sa.Boolean(), nullable=False),
        sa.Column("approval_id", sa.String(length=200), nullable=True),
        sa.Column("client_name", sa.String(length=200), nullable=False),
        sa.Column("project_name", sa.String(length=200), nullable=False),
        sa.Column("pm_email", sa.String(length=254), nullable=True),
        sa.Column("pm_name", sa.String(length=200), nullable=False),
        sa.Column("pm_timezone", sa.String(length=64), nullable=False),
        sa.Column("pm_country", sa.String(length=8), nullable=False),
        sa.Column("am_email", sa.String(length=254), nullable=True),
        sa.Column("am_name", sa.String(length=200), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("route_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("route_error", sa.Text(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("chat_posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=254), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flagged_external_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_recipients", sa.JSON(), nullable=False),
        sa.Column("external_alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_key"], ["accounts.key"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("file_id", "revision", name="uq_contract_reviews_file"),
    )
    op.create_index("ix_contract_reviews_state", "contract_reviews", ["state"], unique=False)
    op.create_index("ix_contract_reviews_file", "contract_reviews", ["file_id"], unique=False)
    op.create_table(
        "drive_seen_files",
        sa.Column("file_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("mime_type", sa.String(length=200), nullable=False),
        sa.Column("parents", sa.JSON(), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=False),
        sa.Column("web_url", sa.String(length=2000), nullable=False),
        sa.Column("can_start_approval", sa.Boolean(), nullable=False),
        sa.Column("shared_with", sa.JSON(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("modified_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("known_name", sa.String(length=500), nullable=True),
        sa.Column("known_mime_type", sa.String(length=200), nullable=True),
        sa.Column("known_parents", sa.JSON(), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("file_id"),
    )
    op.create_index("ix_drive_seen_files_pending", "drive_seen_files", ["pending"], unique=False)
    op.create_table(
        "drive_sync_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("page_token", sa.String(length=500), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("drive_sync_state")
    op.drop_index("ix_drive_seen_files_pending", table_name="drive_seen_files")
    op.drop_table("drive_seen_files")
    op.drop_index("ix_contract_reviews_file", table_name="contract_reviews")
    op.drop_index("ix_contract_reviews_state", table_name="contract_reviews")
    op.drop_table("contract_reviews")
