"""account rhythm: items and their history, sync agendas, agenda templates, health answers

Revision ID: 0011_i15
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_i15"
down_revision = "0010"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "account_items",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("account_key", sa.String(255), sa.ForeignKey("accounts.key"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("severity", sa.String(16)),
        sa.Column("owner_email", sa.String(254)),
        sa.Column("due_on", sa.Date),
        sa.Column("held_on", sa.Date),
        sa.Column("attendees", sa.JSON, nullable=False),
        sa.Column("raised_by", sa.String(254), nullable=False),
        sa.Column("raised_as", sa.String(32), nullable=False),
        sa.Column("request_key", sa.String(240), unique=True),
        sa.Column("acknowledged_by", sa.String(254)),
        sa.Column("acknowledged_at", WHEN),
        sa.Column("for_executive_at", WHEN),
        sa.Column("reminders", sa.JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_index("ix_account_items_account_key", "account_items", ["account_key"])
    op.create_table(
        "account_item_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "item_id",
            sa.String(32),
            sa.ForeignKey("account_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ix_account_item_history_item_id", "account_item_history", ["item_id"])
    op.create_table(
        "account_agendas",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_key", sa.String(255), sa.ForeignKey("accounts.key"), nullable=False),
        sa.Column("meeting_kind", sa.String(32), nullable=False),
        sa.Column("occurrence_start", WHEN, nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("document_id", sa.String(200)),
        sa.Column("document_url", sa.String(2000), nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("described_at", WHEN),
        sa.Column("emailed_at", WHEN),
        sa.Column("lease_until", WHEN),
        sa.Column("created_at", WHEN, nullable=False),
        sa.UniqueConstraint("account_key", "meeting_kind", "occurrence_start"),
    )
    op.create_index("ix_account_agendas_account_key", "account_agendas", ["account_key"])
    op.create_table(
        "agenda_templates",
        sa.Column("account_key", sa.String(255), sa.ForeignKey("accounts.key"), primary_key=True),
        sa.Column("questions", sa.JSON, nullable=False),
        sa.Column("updated_by", sa.String(254), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
    )
    op.create_table(
        "account_health",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_key", sa.String(255), sa.ForeignKey("accounts.key"), nullable=False),
        sa.Column("sync_on", sa.Date, nullable=False),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("answered_by", sa.String(254), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.UniqueConstraint("account_key", "sync_on"),
    )
    op.create_index("ix_account_health_account_key", "account_health", ["account_key"])


def downgrade() -> None:
    for table in (
        "account_health",
        "agenda_templates",
        "account_agendas",
        "account_item_history",
        "account_items",
    ):
        op.drop_table(table)
