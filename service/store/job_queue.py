"""The database-backed queue: add a job once per waiting key, take jobs, finish or retry them.

Workers take jobs with `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
workers never wait for each other nor take the same job; the conditional UPDATE that
follows is what makes it safe everywhere (SQLite serialises writers instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, delete, func, literal, or_, select, update
from sqlalchemy.orm import Session

from service.store.db import dialect_insert
from service.store.queue_models import QueuedJobRow


@dataclass(frozen=True)
class TakenJob:
    """A job a worker holds until `lease_until`."""

    id: int
    job: str
    payload: dict[str, str]
    attempts: int


def add_job(
    session: Session,
    job: str,
    payload: dict[str, Any],
    *,
    key: str,
    now: datetime,
    run_at: datetime,
) -> bool:
    """Queue a job unless one with the same key waits; return True when added."""
    insert = dialect_insert(session)
    statement = (
        insert(QueuedJobRow)
        .values(job=job, payload=payload, key=key, run_at=run_at, attempts=0, created_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def _available(now: datetime) -> Any:
    return (QueuedJobRow.run_at <= now) & or_(
        QueuedJobRow.lease_until.is_(None), QueuedJobRow.lease_until < now
    )


def take_jobs(
    session: Session, *, now: datetime, lease: timedelta, limit: int = 1
) -> list[TakenJob]:
    """Take up to `limit` due jobs (or ones whose worker died) for `lease`."""
    query = (
        select(QueuedJobRow.id)
        .where(_available(now))
        .order_by(QueuedJobRow.run_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        return []
    rows = session.execute(
        update(QueuedJobRow)
        .where(QueuedJobRow.id.in_(ids), _available(now))
        .values(
            lease_until=now + lease,
            attempts=QueuedJobRow.attempts + 1,
            key=literal("taken:", String) + cast(QueuedJobRow.id, String),
        )
        .returning(
            QueuedJobRow.id, QueuedJobRow.job, QueuedJobRow.payload, QueuedJobRow.attempts
        )
        .execution_options(synchronize_session=False)
    ).all()
    return [TakenJob(r.id, r.job, dict(r.payload), r.attempts) for r in rows]


def finish_job(session: Session, job_id: int) -> None:
    """Forget a job that ran."""
    session.execute(delete(QueuedJobRow).where(QueuedJobRow.id == job_id))


def retry_job(session: Session, job_id: int, *, at: datetime, attempts: int) -> None:
    """Let a job that raised run again at `at`; only its holder may (`attempts` is the count
    it was taken with: a worker whose lease ran out and was taken over changes nothing)."""
    session.execute(
        update(QueuedJobRow)
        .where(QueuedJobRow.id == job_id, QueuedJobRow.attempts == attempts)
        .values(lease_until=None, run_at=at)
        .execution_options(synchronize_session=False)
    )


def waiting_jobs(session: Session) -> int:
    """Return how many jobs are queued or running."""
    return int(session.scalar(select(func.count()).select_from(QueuedJobRow)) or 0)
