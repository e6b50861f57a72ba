"""The tables. Alembic migrations in `migrations/` create them; keep both in step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class AccountRow(Base):
    """A client account: the folder and syncs belong to it, not to one project."""

    __tablename__ = "accounts"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    client_name: Mapped[str] = mapped_column(String(200))
    folder_id: Mapped[str | None] = mapped_column(String(200))
    contracts_folder_id: Mapped[str | None] = mapped_column(String(200))
    # When Drive's change feed showed the folder trashed or deleted (None: it is there); the
    # next handover of the client then looks for it again or makes a new one.
    folder_lost_at: Mapped[datetime | None] = mapped_column()
    contracts_lost_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandoverRow(Base):
    """One submitted handover, kept whole as it was submitted (nothing is lost)."""

    __tablename__ = "handovers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    account_key: Mapped[str] = mapped_column(ForeignKey("accounts.key"), index=True)
    client_name: Mapped[str] = mapped_column(String(200))
    project_name: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column()
    # A fingerprint of the body first sent with the idempotency key: the same key with
    # another body is refused, never answered with this handover.
    idempotency_body: Mapped[str | None] = mapped_column(String(64))
    # Set when someone not on the account submitted it for an existing account: its own
    # project goes ahead, but the account's folder, PM and syncs wait for Operations.
    account_pending_since: Mapped[datetime | None] = mapped_column()
    # Waiting for Operations to assign the PM since then (None: it has one).
    pm_needed_since: Mapped[datetime | None] = mapped_column(index=True)

    steps: Mapped[list[StepRow]] = relationship(
        back_populates="handover", order_by="StepRow.position", cascade="all, delete-orphan"
    )
    artifacts: Mapped[list[ArtifactRow]] = relationship(
        back_populates="handover", cascade="all, delete-orphan"
    )


class StepRow(Base):
    """One recorded step of a handover and its state: pending, running, done or failed."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("handover_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handover_id: Mapped[str] = mapped_column(ForeignKey("handovers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Transient failures (Google still failing) since the step last started afresh; a
    # postponed step is pending with `lease_until` as the time it may run again.
    transient_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column()
    generation: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    handover: Mapped[HandoverRow] = relationship(back_populates="steps")


Index("ix_steps_state_lease", StepRow.state, StepRow.lease_until)
Index("ix_handovers_created", HandoverRow.created_at, HandoverRow.id)


class ArtifactRow(Base):
    """Something a step made outside: a folder, the brief, an event; keyed per handover."""

    __tablename__ = "artifacts"
    __table_args__ = (UniqueConstraint("handover_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handover_id: Mapped[str] = mapped_column(ForeignKey("handovers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(1024))
    url: Mapped[str] = mapped_column(String(2000), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    handover: Mapped[HandoverRow] = relationship(back_populates="artifacts")


class AuditRow(Base):
    """Who or what did something, and when."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
