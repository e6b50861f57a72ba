"""merge the capability branches into one head

Revision ID: 0006
Revises: 0002, 0003, 0004, 0005_job_queue
Create Date: 2026-11-26
"""

revision = "0006"
down_revision = ("0002", "0003", "0004", "0005_job_queue")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: this revision only joins the branches."""


def downgrade() -> None:
    """Nothing to change."""
