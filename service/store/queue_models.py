"""The `queued_jobs` table: the database-backed queue (`TASK_QUEUE=database`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.store.models import Base, utcnow


class QueuedJobRow(Base):
    """One job waiting (or being run) for `handover worker`.

    `key` is unique, so a second enqueue of a waiting key is dropped; when a worker takes
    the job the key becomes `taken:<id>`, so the same key may be queued again meanwhile.
    """

    __tablename__ = "queued_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    run_at: Mapped[datetime] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_queued_jobs_run_at", QueuedJobRow.run_at)
