"""Reading and writing handovers, their steps, artifacts and accounts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from service.store.models import AccountRow, ArtifactRow, AuditRow, HandoverRow, StepRow


def ensure_account(session: Session, key: str, client_name: str) -> AccountRow:
    """Return the account row, making it once even when two submissions race."""
    row = session.get(AccountRow, key)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = AccountRow(key=key, client_name=client_name)
            session.add(row)
            session.flush()
    except IntegrityError:
        row = session.get(AccountRow, key)
        assert row is not None
    return row


def add_handover(
    session: Session,
    *,
    handover_id: str,
    idempotency_key: str | None,
    account_key: str,
    client_name: str,
    project_name: str,
    payload: dict[str, Any],
    submitted_by: str,
    step_names: tuple[str, ...],
) -> HandoverRow | None:
    """Store a handover with its pending steps; None if the idempotency key is taken."""
    ensure_account(session, account_key, client_name)
    row = HandoverRow(
        id=handover_id,
        idempotency_key=idempotency_key,
        account_key=account_key,
        client_name=client_name,
        project_name=project_name,
        payload=payload,
        submitted_by=submitted_by,
        steps=[StepRow(name=name, position=i) for i, name in enumerate(step_names)],
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        if idempotency_key and find_by_key(session, idempotency_key) is not None:
            return None
        raise
    return row


def find_by_key(session: Session, idempotency_key: str) -> HandoverRow | None:
    """Return the handover submitted with this idempotency key."""
    return session.scalar(select(HandoverRow).where(HandoverRow.idempotency_key == idempotency_key))


def get_handover(session: Session, handover_id: str) -> HandoverRow | None:
    """Return a handover with its steps and artifacts loaded."""
    return session.scalar(
        select(HandoverRow)
        .where(HandoverRow.id == handover_id)
        .options(selectinload(HandoverRow.steps), selectinload(HandoverRow.artifacts))
    )


def recent_handovers(session: Session, limit: int = 50) -> list[HandoverRow]:
    """Return the newest handovers first, with their steps."""
    return list(
        session.scalars(
            select(HandoverRow)
            .order_by(HandoverRow.created_at.desc())
            .limit(limit)
            .options(selectinload(HandoverRow.steps))
        )
    )


def handovers_before(
    session: Session, before: str | None, limit: int
) -> list[HandoverRow]:
    """Return up to `limit` handovers, newest first, older than the handover `before`
    (all from the newest when None); one index range, whatever the number of handovers."""
    query = select(HandoverRow).order_by(HandoverRow.created_at.desc(), HandoverRow.id.desc())
    if before is not None:
        mark = session.execute(
            select(HandoverRow.created_at, HandoverRow.id).where(HandoverRow.id == before)
        ).one_or_none()
        if mark is None:
            return []
        query = query.where(
            or_(
                HandoverRow.created_at < mark[0],
                (HandoverRow.created_at == mark[0]) & (HandoverRow.id < mark[1]),
            )
        )
    return list(session.scalars(query.limit(limit).options(selectinload(HandoverRow.steps))))


def claim_step(session: Session, step_id: int, *, now: datetime, lease: timedelta) -> bool:
    """Mark a pending (or abandoned running) step as running; False if another got it."""
    result = session.execute(
        update(StepRow)
        .where(
            StepRow.id == step_id,
            or_(
                (StepRow.state == "pending")
                & or_(StepRow.lease_until.is_(None), StepRow.lease_until < now),
                (StepRow.state == "running") & (StepRow.lease_until < now),
            ),
        )
        .values(
            state="running",
            lease_until=now + lease,
            attempts=StepRow.attempts + 1,
            error=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish_step(session: Session, step_id: int, *, generation: int, now: datetime) -> bool:
    """Mark a running step done, unless it was reset (new generation) while it ran."""
    result = session.execute(
        update(StepRow)
        .where(StepRow.id == step_id, StepRow.generation == generation, StepRow.state == "running")
        .values(state="done", lease_until=None, transient_failures=0, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        # Reset while running: run it again with the newest input.
        session.execute(
            update(StepRow)
            .where(StepRow.id == step_id, StepRow.state == "running")
            .values(state="pending", lease_until=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return False
    return True


def fail_step(
    session: Session, step_id: int, *, error: str, now: datetime, generation: int
) -> None:
    """Mark a running step failed with the error a person can act on (unless another worker
    took it over, or it was reset, meanwhile)."""
    session.execute(
        update(StepRow)
        .where(StepRow.id == step_id, StepRow.state == "running", StepRow.generation == generation)
        .values(state="failed", error=error[:4000], lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def postpone_step(
    session: Session, step_id: int, *, error: str, now: datetime, until: datetime, generation: int
) -> None:
    """Put a running step back to pending after a transient failure, not to run before
    `until`; count the failure and keep why, for the page."""
    session.execute(
        update(StepRow)
        .where(StepRow.id == step_id, StepRow.state == "running", StepRow.generation == generation)
        .values(
            state="pending",
            error=error[:4000],
            lease_until=until,
            transient_failures=StepRow.transient_failures + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def reset_steps(
    session: Session, handover_id: str, names: tuple[str, ...], *, now: datetime
) -> int:
    """Set these steps (or every failed one if names is empty) back to pending."""
    condition = StepRow.name.in_(names) if names else StepRow.state == "failed"
    result = session.execute(
        update(StepRow)
        .where(StepRow.handover_id == handover_id, condition)
        .values(
            state="pending",
            error=None,
            lease_until=None,
            transient_failures=0,
            generation=StepRow.generation + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def handovers_needing_work(
    session: Session, *, now: datetime, idle: timedelta, waiting_for_pm: tuple[str, ...] = ()
) -> list[str]:
    """Return handovers with a step idle while pending, or running past its lease.

    Steps named in `waiting_for_pm` of a handover waiting for its PM are not stuck: they wait.
    """
    rows = session.scalars(
        select(StepRow.handover_id)
        .join(HandoverRow, HandoverRow.id == StepRow.handover_id)
        .where(
            or_(
                (StepRow.state == "pending")
                & (StepRow.updated_at < now - idle)
                & or_(StepRow.lease_until.is_(None), StepRow.lease_until < now),
                (StepRow.state == "running") & (StepRow.lease_until < now),
            ),
            or_(HandoverRow.pm_needed_since.is_(None), StepRow.name.not_in(waiting_for_pm)),
        )
        .distinct()
    )
    return sorted(set(rows))


def running_account_keys(session: Session) -> list[str]:
    """Return the accounts with at least one handover not cancelled."""
    query = select(HandoverRow.account_key).where(HandoverRow.cancelled_at.is_(None))
    return sorted(set(session.scalars(query)))


def running_handovers(session: Session, account_key: str) -> list[HandoverRow]:
    """Return the account's handovers that are not cancelled, their steps and artifacts
    loaded (three queries, not two per handover)."""
    return list(
        session.scalars(
            select(HandoverRow)
            .where(HandoverRow.account_key == account_key, HandoverRow.cancelled_at.is_(None))
            .options(selectinload(HandoverRow.steps), selectinload(HandoverRow.artifacts))
        )
    )


def account_handovers(session: Session, account_key: str) -> list[HandoverRow]:
    """Return every handover of the account, oldest first."""
    return list(
        session.scalars(
            select(HandoverRow)
            .where(HandoverRow.account_key == account_key)
            .order_by(HandoverRow.created_at, HandoverRow.id)
        )
    )


def account_exists(session: Session, account_key: str) -> bool:
    """Return whether the account is known (an earlier handover made it)."""
    return session.get(AccountRow, account_key) is not None


def account_of_files(session: Session, file_ids: list[str]) -> str | None:
    """Return the account whose client or Contracts folder is one of these ids."""
    return session.scalar(
        select(AccountRow.key).where(
            or_(AccountRow.folder_id.in_(file_ids), AccountRow.contracts_folder_id.in_(file_ids))
        )
    )


def account_pending(session: Session, handover_id: str) -> bool:
    """Return whether the handover waits for Operations before it touches its account."""
    row = session.get(HandoverRow, handover_id)
    return row is not None and row.account_pending_since is not None


def artifact(session: Session, handover_id: str, kind: str) -> ArtifactRow | None:
    """Return the artifact of this kind made for the handover, if any."""
    return session.scalar(
        select(ArtifactRow).where(ArtifactRow.handover_id == handover_id, ArtifactRow.kind == kind)
    )


def put_artifact(
    session: Session,
    handover_id: str,
    kind: str,
    *,
    external_id: str,
    url: str = "",
    data: dict[str, Any] | None = None,
) -> ArtifactRow:
    """Record (or update) the artifact of this kind for the handover."""
    row = artifact(session, handover_id, kind)
    if row is None:
        row = ArtifactRow(handover_id=handover_id, kind=kind, external_id=external_id)
        session.add(row)
    row.external_id, row.url, row.data = external_id, url, dict(data or {})
    session.flush()
    return row


def record(session: Session, *, actor: str, action: str, subject: str, **detail: Any) -> None:
    """Add a line to the audit trail."""
    session.add(AuditRow(actor=actor, action=action, subject=subject, detail=detail))


def audit_trail(
    session: Session, subject: str | None = None, limit: int = 200, before: int | None = None
) -> list[AuditRow]:
    """Return audit lines, newest first, optionally for one subject, older than `before`."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if subject:
        query = query.where(AuditRow.subject == subject)
    if before is not None:
        query = query.where(AuditRow.id < before)
    return list(session.scalars(query))
