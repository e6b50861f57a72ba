"""The account rhythm's tables: items (opportunities, escalations, tasks, notes) with their
history, the sync agendas, each client's agenda template and the health answers.
Migration 0011_i15 creates them; keep both in step."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.store.models import Base, utcnow


class AccountItemRow(Base):
    """One thing on an account: an opportunity, an escalation, a task or an ad-hoc note."""

    __tablename__ = "account_items"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_key: Mapped[str] = mapped_column(ForeignKey("accounts.key"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(24))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[str | None] = mapped_column(String(16))
    owner_email: Mapped[str | None] = mapped_column(String(254))
    due_on: Mapped[date | None] = mapped_column(Date)
    held_on: Mapped[date | None] = mapped_column(Date)
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    raised_by: Mapped[str] = mapped_column(String(254))
    raised_as: Mapped[str] = mapped_column(String(32))  # am, pm, sales, operations, admin
    # The Idempotency-Key header or the form's hidden key: a double submit is one item.
    request_key: Mapped[str | None] = mapped_column(String(240), unique=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(254))
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    # The Executive Sponsor Sync (its occurrence's start) the AM put this item on.
    for_executive_at: Mapped[datetime | None] = mapped_column()
    reminders: Mapped[list[str]] = mapped_column(JSON, default=list)  # reminders sent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AccountItemHistoryRow(Base):
    """Who moved an item to which state, when, and what they said."""

    __tablename__ = "account_item_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(
        ForeignKey("account_items.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")


class AgendaRow(Base):
    """The agenda of one sync occurrence: its document, and whether it was linked and sent."""

    __tablename__ = "account_agendas"
    __table_args__ = (UniqueConstraint("account_key", "meeting_kind", "occurrence_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_key: Mapped[str] = mapped_column(ForeignKey("accounts.key"), index=True)
    meeting_kind: Mapped[str] = mapped_column(String(32))
    occurrence_start: Mapped[datetime] = mapped_column()  # the rule's instant (UTC)
    starts_at: Mapped[datetime] = mapped_column()  # when it really starts (moved or not)
    document_id: Mapped[str | None] = mapped_column(String(200))
    document_url: Mapped[str] = mapped_column(String(2000), default="")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    described_at: Mapped[datetime | None] = mapped_column()
    emailed_at: Mapped[datetime | None] = mapped_column()
    # A worker making the agenda holds it until then (two cron runs never both write it).
    lease_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgendaTemplateRow(Base):
    """A client's own agenda questions (the handbook lets the format vary per client)."""

    __tablename__ = "agenda_templates"

    account_key: Mapped[str] = mapped_column(ForeignKey("accounts.key"), primary_key=True)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HealthRow(Base):
    """The AM's and PM's answers to the handbook's questions at one internal sync."""

    __tablename__ = "account_health"
    __table_args__ = (UniqueConstraint("account_key", "sync_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_key: Mapped[str] = mapped_column(ForeignKey("accounts.key"), index=True)
    sync_on: Mapped[date] = mapped_column(Date)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answered_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
