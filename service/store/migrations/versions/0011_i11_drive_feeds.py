"""drive_seen_files.sharing_known (who a draft is shared with could not be read),
drive_channels.feed (a push channel on a shared drive's own change log), and
drive_sync_state.name long enough for "drive:<shared drive id>"

Revision ID: 0011_i11
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_i11"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drive_seen_files") as batch:
        batch.add_column(
            sa.Column("sharing_known", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("drive_channels") as batch:
        batch.add_column(sa.Column("feed", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("drive_sync_state") as batch:
        batch.alter_column("name", type_=sa.String(64), existing_type=sa.String(32))


def downgrade() -> None:
    with op.batch_alter_table("drive_sync_state") as batch:
        batch.alter_column("name", type_=sa.String(32), existing_type=sa.String(64))
    with op.batch_alter_table("drive_channels") as batch:
        batch.drop_column("feed")
    with op.batch_alter_table("drive_seen_files") as batch:
        batch.drop_column("sharing_known")
