"""merge the capability branches of the fourth session into one head

Revision ID: 0014
Revises: 0013_gmail, 0013_reviews
Create Date: 2026-12-04
"""

revision = "0014"
down_revision = ("0013_gmail", "0013_reviews")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: this revision only joins the branches."""


def downgrade() -> None:
    """Nothing to change."""
