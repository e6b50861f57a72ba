"""Reading and writing the roles assigned in the service (`role_assignments`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.store.role_models import RoleAssignmentRow


def assigned_role(session: Session, email: str) -> str | None:
    """Return the role assigned to this person in the service, if any."""
    row = session.get(RoleAssignmentRow, email.strip().lower())
    return row.role if row is not None else None


def assignments(session: Session) -> list[RoleAssignmentRow]:
    """Return every assignment, by email."""
    return list(session.scalars(select(RoleAssignmentRow).order_by(RoleAssignmentRow.email)))


def assign(session: Session, email: str, role: str, *, by: str, now: datetime) -> str | None:
    """Give the person the role; return the role they had here before (None: none)."""
    row = session.get(RoleAssignmentRow, email, with_for_update=True)
    if row is None:
        session.add(RoleAssignmentRow(email=email, role=role, assigned_by=by, assigned_at=now))
        return None
    before = row.role
    row.role, row.assigned_by, row.assigned_at = role, by, now
    return before


def unassign(session: Session, email: str) -> str | None:
    """Remove the person's assignment; return the role it gave (None: there was none)."""
    row = session.get(RoleAssignmentRow, email)
    if row is None:
        return None
    session.execute(delete(RoleAssignmentRow).where(RoleAssignmentRow.email == email))
    return row.role
