"""merge the capability branches of the third session into one head

Revision ID: 0012
Revises: 0011_i11, 0011_i12, 0011_i14, 0011_i15, 0011_i16
Create Date: 2026-12-04
"""

revision = "0012"
down_revision = ("0011_i11", "0011_i12", "0011_i14", "0011_i15", "0011_i16")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: this revision only joins the branches."""


def downgrade() -> None:
    """Nothing to change."""
